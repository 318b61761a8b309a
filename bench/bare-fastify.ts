// The bare Fastify baseline of `npm run bench`: the same framework and JSON serialisation as
// the API, with no auth, database, cache or decision, so the ratio of a real route to it
// says what Airlock adds per request on this machine in this run.
//
//   node bench/bare-fastify.ts <port>
import Fastify from 'fastify';

const app = Fastify({ logger: false });
const body = {
  id: '00000000-0000-4000-8000-000000000000',
  object: 'action',
  tool: 'notes.create',
  arguments: { title: 'Weekly note', body: 'Remember to water the plants.' },
  status: 'succeeded',
};
app.get('/v1/actions/:id', async () => body);
await app.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0) });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
