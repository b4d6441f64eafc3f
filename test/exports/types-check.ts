// Compiled by test/exports.test.js (tsc --noEmit): each entry's types resolve by package name.
import { MemCache, MemCacheClient, MmcError, type PutOptions } from 'memcache-hybrid';
import { MemCacheClient as Client, type ClientOptions } from 'memcache-hybrid/client';
import { createServer, type ServerOptions, type RunningServer, type TlsOptions } from 'memcache-hybrid/server';
import { createAclBackend, aclUnavailableReason } from 'memcache-hybrid/acl';

const opts: PutOptions = { medium: 'hbm' };
const client: ClientOptions = { connections: 1 };
const server: ServerOptions = { valueLimit: 1 };
const tls: TlsOptions | undefined = undefined;
const running: RunningServer | undefined = undefined;
export const used = [MemCache, MemCacheClient, MmcError, Client, createServer, createAclBackend, aclUnavailableReason, opts, client, server, tls, running];
