import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { EXECUTE_QUEUE } from '../../src/modules/execution/execution.jobs.ts';
import { loadConfig } from '../../src/platform/config.ts';
import { queuePrefix } from '../../src/platform/queue.ts';
import { OUTPUT, renderPrometheusRule } from '../../scripts/render-prometheus-rule.ts';
import {
  configVariables,
  itWithTool,
  readYamlDocuments,
  repoPath,
  run,
  toolVersion,
} from './deploy-tools.ts';

// Kubernetes objects as rendered by kustomize: loosely typed, checked field by field below.
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown> & {
    template?: { metadata?: { labels?: Record<string, string> }; spec: PodSpec };
  };
  data?: Record<string, string>;
}
interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  ports?: { name: string; containerPort: number }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    capabilities?: { drop?: string[] };
  };
  startupProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
}
interface PodSpec {
  containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  automountServiceAccountToken?: boolean;
  terminationGracePeriodSeconds?: number;
}

const OVERLAYS = ['local', 'production'] as const;
const kubectl = toolVersion('kubectl', ['version', '--client']);
const kustomizeVersion =
  kubectl && run('kubectl', ['version', '--client']).stdout.match(/Kustomize Version: (\S+)/)?.[1];

// Every kind the overlays may produce, and the schema package that validates it. A kind
// missing here fails the test: each object is checked against a Kubernetes schema.
const MODELS: Record<string, () => Promise<Record<string, unknown>>> = {
  v1: () => import('kubernetes-models/v1'),
  'apps/v1': () => import('kubernetes-models/apps/v1'),
  'batch/v1': () => import('kubernetes-models/batch/v1'),
  'autoscaling/v2': () => import('kubernetes-models/autoscaling/v2'),
  'policy/v1': () => import('kubernetes-models/policy/v1'),
  'networking.k8s.io/v1': () => import('kubernetes-models/networking.k8s.io/v1'),
  'keda.sh/v1alpha1': () => import('@kubernetes-models/keda/keda.sh/v1alpha1'),
  'monitoring.coreos.com/v1': () => import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'),
};

type Model = new (data: unknown) => { validate(): void };

async function validateObject(object: K8sObject): Promise<void> {
  const load = MODELS[object.apiVersion];
  if (!load) throw new Error(`${object.kind}/${object.metadata.name}: no schema for ${object.apiVersion}`);
  const Model = (await load())[object.kind] as Model | undefined;
  if (!Model) throw new Error(`${object.kind}/${object.metadata.name}: no schema for kind ${object.kind}`);
  new Model(object).validate();
}

// The schemas above check types and required fields but, like the API server's OpenAPI,
// let unknown fields through, so a misspelt field would be silently dropped. TypeScript's
// excess-property check on object literals catches those: each object is written as a
// literal typed with its interface from the same packages, and tsc compiles the file.
const MODULE_PATHS: Record<string, string> = {
  v1: 'kubernetes-models/v1',
  'apps/v1': 'kubernetes-models/apps/v1',
  'batch/v1': 'kubernetes-models/batch/v1',
  'autoscaling/v2': 'kubernetes-models/autoscaling/v2',
  'policy/v1': 'kubernetes-models/policy/v1',
  'networking.k8s.io/v1': 'kubernetes-models/networking.k8s.io/v1',
  'keda.sh/v1alpha1': '@kubernetes-models/keda/keda.sh/v1alpha1',
  'monitoring.coreos.com/v1': '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1',
};

function typecheckObjects(name: string, objects: K8sObject[]): string {
  const dir = repoPath('node_modules/.cache/airlock-k8s-types');
  mkdirSync(dir, { recursive: true });
  const modules = [...new Set(objects.map((o) => o.apiVersion))];
  const alias = (apiVersion: string) => `m${modules.indexOf(apiVersion)}`;
  const lines = modules.map((v) => `import type * as ${alias(v)} from '${MODULE_PATHS[v]}';`);
  objects.forEach((o, i) => {
    lines.push(`// ${o.kind}/${o.metadata.name}`);
    lines.push(`export const o${i}: ${alias(o.apiVersion)}.I${o.kind} = ${JSON.stringify(o, null, 1)};`);
  });
  const file = `${dir}/${name}.ts`;
  writeFileSync(file, lines.join('\n'));
  const result = run(process.execPath, [
    repoPath('node_modules/typescript/bin/tsc'),
    '--ignoreConfig',
    '--noEmit',
    '--strict',
    '--skipLibCheck',
    '--target',
    'es2022',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    file,
  ]);
  return result.status === 0 ? '' : result.stdout;
}

const rendered = new Map<string, K8sObject[]>();
function render(overlay: string): K8sObject[] {
  if (!rendered.has(overlay)) {
    const result = run('kubectl', ['kustomize', repoPath('deploy/k8s/overlays', overlay)]);
    if (result.status !== 0) throw new Error(result.output);
    rendered.set(overlay, readYamlDocuments(result.stdout) as K8sObject[]);
  }
  return rendered.get(overlay)!;
}

const find = (objects: K8sObject[], kind: string, name: string) =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const workloads = (objects: K8sObject[]) =>
  objects.filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind));
const airlockContainers = (objects: K8sObject[]) =>
  workloads(objects)
    .filter((o) => o.metadata.labels?.['app.kubernetes.io/name'] === 'airlock')
    .flatMap((o) => o.spec!.template!.spec.containers.map((c) => ({ owner: o, container: c })));

describe('Kubernetes manifests', () => {
  for (const overlay of OVERLAYS) {
    describe(`overlay ${overlay}`, () => {
      itWithTool(
        'kubectl',
        Boolean(kubectl),
        `when kustomize ${kustomizeVersion ?? ''} renders it, then every object passes its Kubernetes schema`,
        async () => {
          const objects = render(overlay);
          expect(objects.length).toBeGreaterThanOrEqual(20);
          const failures: string[] = [];
          for (const object of objects) {
            try {
              await validateObject(object);
            } catch (err) {
              failures.push(`${object.kind}/${object.metadata.name}: ${(err as Error).message}`);
            }
          }
          expect(failures).toEqual([]);
        },
      );

      itWithTool(
        'kubectl',
        Boolean(kubectl),
        'when every object is type-checked against the Kubernetes API types, then none has an unknown field',
        () => {
          expect(typecheckObjects(overlay, render(overlay))).toBe('');
        },
      );

      itWithTool(
        'kubectl',
        Boolean(kubectl),
        'when rendered, then it has every object the issue lists',
        () => {
          const objects = render(overlay);
          const kinds = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);
          expect(kinds('Deployment')).toEqual(
            expect.arrayContaining(['airlock-api', 'airlock-worker', 'airlock-moderation']),
          );
          expect(kinds('Job')).toEqual(['airlock-migrate']);
          expect(kinds('HorizontalPodAutoscaler')).toEqual(['airlock-api']);
          expect(kinds('ScaledObject')).toEqual(['airlock-worker']);
          expect(kinds('PodDisruptionBudget')).toEqual(
            expect.arrayContaining(['airlock-api', 'airlock-worker', 'airlock-moderation']),
          );
          expect(kinds('NetworkPolicy')).toEqual(
            expect.arrayContaining([
              'airlock-default-deny',
              'airlock-api',
              'airlock-worker',
              'airlock-datastores-egress',
            ]),
          );
          expect(kinds('ServiceMonitor')).toEqual(['airlock']);
          expect(kinds('PrometheusRule')).toEqual(['airlock']);
          for (const object of objects) {
            if (object.kind !== 'Namespace')
              expect(object.metadata.namespace, object.metadata.name).toBe('airlock');
          }
        },
      );

      itWithTool(
        'kubectl',
        Boolean(kubectl),
        'when a container runs, then it is non-root, read-only, with no capabilities and with requests and limits',
        () => {
          const objects = render(overlay);
          for (const object of workloads(objects)) {
            const pod = object.spec!.template!.spec;
            expect(pod.securityContext?.runAsNonRoot, object.metadata.name).toBe(true);
            expect(pod.securityContext?.runAsUser, object.metadata.name).toBeGreaterThan(0);
            expect(pod.automountServiceAccountToken, object.metadata.name).toBe(false);
            for (const container of pod.containers) {
              const where = `${object.metadata.name}/${container.name}`;
              expect(container.securityContext?.readOnlyRootFilesystem, where).toBe(true);
              expect(container.securityContext?.allowPrivilegeEscalation, where).toBe(false);
              expect(container.securityContext?.capabilities?.drop, where).toEqual(['ALL']);
              for (const resource of ['cpu', 'memory']) {
                expect(container.resources?.requests?.[resource], where).toBeTruthy();
                expect(container.resources?.limits?.[resource], where).toBeTruthy();
              }
            }
          }
        },
      );

      itWithTool(
        'kubectl',
        Boolean(kubectl),
        'when a role runs, then its probes follow the contract: startup and liveness on /livez, readiness on /readyz',
        () => {
          const objects = render(overlay);
          for (const role of ['api', 'worker', 'moderation']) {
            const deployment = find(objects, 'Deployment', `airlock-${role}`)!;
            const container = deployment.spec!.template!.spec.containers[0]!;
            expect(container.env?.find((e) => e.name === 'AIRLOCK_ROLE')?.value).toBe(role);
            expect(container.startupProbe?.httpGet?.path, role).toBe('/livez');
            expect(container.livenessProbe?.httpGet?.path, role).toBe('/livez');
            expect(container.readinessProbe?.httpGet?.path, role).toBe('/readyz');
            const strategy = deployment.spec!.strategy as { rollingUpdate: { maxUnavailable: number } };
            expect(strategy.rollingUpdate.maxUnavailable, role).toBe(0);
          }
          for (const role of ['api', 'moderation']) {
            const pod = find(objects, 'Deployment', `airlock-${role}`)!.spec!.template!.spec;
            const sleep = Number(pod.containers[0]!.lifecycle?.preStop?.exec?.command[1]);
            expect(sleep, role).toBeGreaterThan(0);
            // The grace period covers the preStop sleep, the drain delay and the shutdown deadline.
            const config = find(objects, 'ConfigMap', 'airlock-config')!.data!;
            expect(pod.terminationGracePeriodSeconds!, role).toBeGreaterThan(
              sleep + (Number(config.SHUTDOWN_DELAY_MS) + Number(config.SHUTDOWN_TIMEOUT_MS)) / 1000,
            );
          }
        },
      );

      itWithTool(
        'kubectl',
        Boolean(kubectl),
        'when the ConfigMap and env are read, then every variable is one the config reads and the config accepts the values',
        () => {
          const objects = render(overlay);
          const known = configVariables();
          const config = find(objects, 'ConfigMap', 'airlock-config')!.data!;
          expect(Object.keys(config).filter((k) => !known.has(k))).toEqual([]);
          for (const { container } of airlockContainers(objects)) {
            for (const env of container.env ?? []) expect(known, env.name).toContain(env.name);
          }
          expect(() => loadConfig({ ...config, AIRLOCK_ROLE: 'api' })).not.toThrow();
        },
      );

      itWithTool(
        'kubectl',
        Boolean(kubectl),
        'when KEDA scales the worker, then it watches the wait list of the queue the code uses',
        () => {
          const objects = render(overlay);
          const scaled = find(objects, 'ScaledObject', 'airlock-worker')!;
          const spec = scaled.spec as {
            scaleTargetRef: { name: string };
            triggers: { type: string; metadata: Record<string, string> }[];
          };
          expect(spec.scaleTargetRef.name).toBe('airlock-worker');
          const redisPrefix = loadConfig({}).redisPrefix;
          expect(spec.triggers[0]!.type).toBe('redis');
          expect(spec.triggers[0]!.metadata.listName).toBe(
            `${queuePrefix(redisPrefix)}:${EXECUTE_QUEUE}:wait`,
          );
          expect(Number(spec.triggers[0]!.metadata.listLength)).toBeGreaterThan(0);
          // docs/scaling.md derives the queue wait from this target; keep them together.
          expect(readFileSync(repoPath('docs/scaling.md'), 'utf8')).toContain(
            `listLength: ${spec.triggers[0]!.metadata.listLength}`,
          );
        },
      );

      itWithTool(
        'kubectl',
        Boolean(kubectl),
        'when network policies apply, then only the API accepts traffic from outside and the worker accepts none but Prometheus',
        () => {
          const objects = render(overlay);
          const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
          const deny = find(objects, 'NetworkPolicy', 'airlock-default-deny')!.spec as {
            podSelector: object;
            policyTypes: string[];
          };
          expect(deny.podSelector).toEqual({});
          expect(deny.policyTypes).toEqual(['Ingress', 'Egress']);
          // An ingress rule with no `from` admits any source: only the API's may be like that.
          const open = policies.flatMap((p) =>
            ((p.spec as { ingress?: { from?: unknown[] }[] }).ingress ?? [])
              .filter((rule) => !rule.from)
              .map(() => p.metadata.name),
          );
          expect(open).toEqual(['airlock-api']);
          const workerIngress = policies.filter((p) => {
            const selector = (p.spec as { podSelector: { matchLabels?: Record<string, string> } }).podSelector
              .matchLabels;
            const types = (p.spec as { policyTypes: string[] }).policyTypes;
            return (
              types.includes('Ingress') &&
              selector?.['app.kubernetes.io/name'] === 'airlock' &&
              [undefined, 'worker'].includes(selector['app.kubernetes.io/component'])
            );
          });
          expect(workerIngress.map((p) => p.metadata.name).sort()).toEqual([
            'airlock-prometheus-scrape',
            'airlock-worker',
          ]);
        },
      );
    });
  }

  it('when an object has a misspelt field or a wrong type, then both checks refuse it', async () => {
    const broken: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'broken' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: {
          spec: { containers: [{ name: 'c', image: 'i', imagePullPolicy: 'Always', imagee: 'x' } as never] },
        },
      },
    };
    expect(typecheckObjects('broken', [broken])).toMatch(/imagee\W+ does not exist in type 'IContainer'/);
    await expect(validateObject({ ...broken, spec: { ...broken.spec, replicas: 'two' } })).rejects.toThrow(
      /replicas must be integer/,
    );
  }, 120_000);

  it('when the PrometheusRule is regenerated from the compose rule files, then the committed one is identical', () => {
    expect(readFileSync(OUTPUT, 'utf8')).toBe(renderPrometheusRule());
    const rule = parseYaml(readFileSync(OUTPUT, 'utf8')) as {
      spec: { groups: { rules: { alert?: string }[] }[] };
    };
    const alerts = rule.spec.groups.flatMap((g) => g.rules).filter((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(16);
  });

  itWithTool(
    'kubectl',
    Boolean(kubectl),
    'when the ServiceMonitor selects Services, then their job labels are the ones the alert rules watch',
    () => {
      const objects = render('production');
      const monitor = find(objects, 'ServiceMonitor', 'airlock')!.spec as {
        jobLabel: string;
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string }[];
      };
      const services = objects.filter(
        (o) =>
          o.kind === 'Service' &&
          Object.entries(monitor.selector.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v),
      );
      expect(services.map((s) => s.metadata.labels![monitor.jobLabel]).sort()).toEqual([
        'airlock-api',
        'airlock-moderation',
        'airlock-worker',
      ]);
      const ports = monitor.endpoints.map((e) => e.port);
      for (const service of services) {
        const names = (service.spec!.ports as { name: string }[]).map((p) => p.name);
        expect(
          names.some((n) => ports.includes(n)),
          service.metadata.name,
        ).toBe(true);
      }
    },
  );
});
