// The calls inference engines make (putFrom*, getInto*, their batches) through a pool: the
// conformance suite of test/helpers/sdk-calls.js against a meta service and two agents over TCP,
// and with the agents in-process (an embedded rank's path).
import { sdkCalls } from '../helpers/sdk-calls.js';
import { inProcessPool } from './_inproc.js';

sdkCalls('pool (meta + 2 agents over TCP)', () => inProcessPool()).run();
sdkCalls('pool (agents in-process)', () => inProcessPool({ inProcess: true })).run();
