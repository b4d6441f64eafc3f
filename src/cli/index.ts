/**
 * mmc: run a memcache-hybrid server (`mmc serve`) and talk to one (put, get, rm, keys, query,
 * segments, stats). Exit code 0 on success, 1 on any failure with one line on stderr.
 * `mmc serve` loads the server (Koa) only when it runs; the client commands never do.
 */
import { Command, Option } from 'commander';
import { DEFAULT_SERVER } from './access.js';
import * as cmd from './commands.js';
import { die, messageOf } from './fail.js';

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0); // `mmc keys | head`
  die(e.message);
});

const program = new Command();
program
  .name('mmc')
  .description('memcache-hybrid: a KV-cache pool with HBM and DRAM tiers; run a server or talk to one')
  .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') })
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 1));

program
  .command('serve')
  .description('run the embedded store and the REST server')
  .option('--config <file>', 'reference ock.mmc.* conf file (metrics_url sets the listen address)')
  .option('--listen <host:port>', 'listen address (default 127.0.0.1:8000)')
  .option('--ranks <n>', 'number of simulated ranks (default 1)')
  .option('--hbm <size>', 'HBM per rank, e.g. 1GB, 512MB, 0 for none (default 1GB)')
  .option('--dram <size>', 'DRAM per rank (default 1GB)')
  .addOption(new Option('--backend <name>', 'device backend').choices(['sim', 'acl']))
  .option('--devices <ids>', 'acl: device of each rank, e.g. 0,1,2,3 (default rank N on device N)')
  .option('--acl-library <path>', 'acl: path of libascendcl.so (default: $MMC_ACL_LIBRARY, then the usual places)')
  .option('--value-limit <size>', 'largest value of the data plane (default 256MB)')
  .option('--metadata-limit <size>', 'largest /metadata value (default 1MB)')
  .option('--token-file <file>', 'require this bearer token for the data plane and every mutating request (default: $MMC_TOKEN, then ock.mmc.auth.token.path)')
  .option('--tls-cert <file>', 'serve HTTPS with this certificate (PEM; with --tls-key; replaces ock.mmc.tls.*)')
  .option('--tls-key <file>', "the certificate's private key (PEM)")
  .option('--tls-ca <file>', 'require client certificates signed by this CA (PEM): mutual TLS')
  .option('--metadata-total-limit <size>', '/metadata: total bytes of keys and values (default 64MB)')
  .option('--metadata-key-limit <n>', '/metadata: number of keys (default 65536)')
  .option('--body-timeout <ms>', 'cut off a request body that sends no byte for this long (default 10000)')
  .option('--put-in-flight-limit <size>', 'store space held by puts still receiving their bodies (default half the capacity)')
  .option('--body-memory-limit <size>', 'memory held by buffered request bodies in flight (default 1GB)')
  .option('--batch-key-limit <n>', 'keys in one batch call (default 16384)')
  .option('--data-listen <host:port|off>', 'binary data path address (default the HTTP port + 1; ock.mmc.data_path.listen)')
  .option('-q, --quiet', 'no log lines')
  .action(async (opts) => (await import('./serve.js')).serve(opts));

program
  .command('meta')
  .description("run the pool's meta service: metadata, allocators, the REST contract; no value bytes")
  .option('--listen <host:port>', 'listen address (default 127.0.0.1:5000; the data path on the next port)')
  .option('--advertise <host:port>', 'the address given out as the leader address')
  .option('--config <file>', 'reference mmc-meta.conf (ock.mmc.meta_service_url sets the listen address)')
  .option('--token-file <file>', 'require this bearer token of agents and clients (default: $MMC_TOKEN, then ock.mmc.auth.token.path)')
  .option('--agent-timeout <ms>', 'drop a rank agent silent this long, at least 1000 (agents heartbeat every 500 ms; default 2000)')
  .option('-q, --quiet', 'no log lines')
  .action(async (opts) => (await import('./meta.js')).meta(opts));

program
  .command('local')
  .description('run a rank agent: its HBM/DRAM segments, registered at the meta service, read and written by clients')
  .option('--meta <url>', 'the meta service, http://host:port (ock.mmc.meta_service_url)')
  .option('--rank <n>', 'this agent\'s rank, 0..65535')
  .option('--listen <host:port>', 'data path address (default 127.0.0.1, any free port)')
  .option('--advertise <host:port>', 'the address clients reach this agent at (default the listen address)')
  .option('--hbm <size>', 'HBM of this rank, 0 for none (default 1GB; ock.mmc.local_service.hbm.size)')
  .option('--dram <size>', 'DRAM of this rank, 0 for none (default 1GB; ock.mmc.local_service.dram.size)')
  .addOption(new Option('--backend <name>', 'device backend').choices(['sim', 'acl']))
  .option('--devices <ids>', 'acl: the device of this rank (one id), or of every rank (a list indexed by rank)')
  .option('--acl-library <path>', 'acl: path of libascendcl.so')
  .option('--config <file>', 'reference mmc-local.conf')
  .option('--token-file <file>', "present this bearer token to the meta service (default: $MMC_TOKEN, then ock.mmc.auth.token.path)")
  .option('-q, --quiet', 'no log lines')
  .action(async (opts) => (await import('./local.js')).local(opts));

const withServer = (c: Command) => c
  .option('-s, --server <url>', 'server URL ($MMC_SERVER)', DEFAULT_SERVER)
  .option('--token-file <file>', 'send the bearer token in this file (default: $MMC_TOKEN)')
  .option('--tls-ca <file>', 'https: verify the server with this CA (PEM)')
  .option('--tls-cert <file>', 'https: client certificate (PEM), for a server that requires one')
  .option('--tls-key <file>', "https: the client certificate's private key (PEM)");

withServer(program.command('put'))
  .description('store a value: from FILE, or from stdin when FILE is - or absent')
  .argument('<key>')
  .argument('[file]', 'file to read, - for stdin')
  .addOption(new Option('--medium <medium>', 'place on this medium').choices(['hbm', 'dram']))
  .option('--replicas <n>', 'replicas on distinct ranks (1..8)')
  .option('--progress', 'always draw the progress bar')
  .option('--no-progress', 'never draw the progress bar')
  .action(cmd.put);

withServer(program.command('get'))
  .description('write a value to stdout (or to --output FILE)')
  .argument('<key>')
  .option('-o, --output <file>', 'write to this file instead of stdout')
  .option('--progress', 'always draw the progress bar')
  .option('--no-progress', 'never draw the progress bar')
  .action(cmd.get);

// The commands that take a key at most and no flags of their own.
const plain: Array<[name: string, description: string, key: boolean, action: Parameters<Command['action']>[0]]> = [
  ['rm', 'remove a key', true, cmd.rm],
  ['keys', 'list every key, one a line', false, cmd.keys],
  ['query', "a key's size and blob locations, as JSON", true, cmd.query],
  ['segments', 'segments with their capacity and use', false, cmd.segments],
];
for (const [name, description, key, action] of plain) {
  const c = withServer(program.command(name)).description(description);
  if (key) c.argument('<key>');
  c.action(action);
}

withServer(program.command('stats'))
  .description('operation counters (/metrics/summary, one a line) and tracepoint latencies (/metrics/ptracer)')
  .option('--summary', 'print the raw one-line summary only')
  .action(cmd.stats);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  // Anything unexpected: one line, never a stack trace.
  die(messageOf(e));
}
