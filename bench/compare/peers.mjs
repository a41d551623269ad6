// The peers' workload on aws-local-stepfunctions, the in-memory Amazon
// States Language interpreter for Node.js: executions of a state machine of
// Task states, each overridden with a local function that echoes its input,
// a number of them in flight at once. `make compare` runs it next to
// aiflow's engine on the same definition and prints one table.
//
// usage: node peers.mjs --definition JSON --executions N --in-flight N
// It prints one JSON object: the interpreter and Node.js versions, the
// executions, the wall time and the CPU time of the run.
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

function flag(name) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0 || i + 1 >= process.argv.length) {
    throw new Error(`peers.mjs: --${name} is missing`);
  }
  return process.argv[i + 1];
}

function positive(name) {
  const n = Number.parseInt(flag(name), 10);
  if (!Number.isInteger(n) || n <= 0) {
    throw new Error(`peers.mjs: --${name} must be a positive integer`);
  }
  return n;
}

const definition = JSON.parse(flag('definition'));
const executions = positive('executions');
const inFlight = positive('in-flight');
const version = JSON.parse(
  readFileSync(new URL('./node_modules/aws-local-stepfunctions/package.json', import.meta.url)),
).version;

// Every Task state runs the echo function in this process.
const echo = async (input) => input;
const taskResourceLocalHandlers = {};
for (const [name, state] of Object.entries(definition.States)) {
  if (state.Type === 'Task') {
    taskResourceLocalHandlers[name] = echo;
  }
}
const machine = new StateMachine(definition);

let next = 0;
async function worker() {
  while (next < executions) {
    const i = next++;
    const input = { n: i, payload: '0123456789abcdef0123456789abcdef' };
    const result = await machine.run(input, { overrides: { taskResourceLocalHandlers } }).result;
    if (result?.n !== i || result?.payload !== input.payload) {
      throw new Error(`peers.mjs: execution ${i} returned ${JSON.stringify(result)}, not its input`);
    }
  }
}

const cpuStart = process.cpuUsage();
const start = process.hrtime.bigint();
await Promise.all(Array.from({ length: Math.min(inFlight, executions) }, worker));
const elapsedNs = process.hrtime.bigint() - start;
const cpu = process.cpuUsage(cpuStart);

process.stdout.write(
  JSON.stringify({
    interpreter: `aws-local-stepfunctions ${version}`,
    node: process.version,
    executions,
    inFlight,
    elapsedMicros: Number(elapsedNs / 1000n),
    cpuMicros: cpu.user + cpu.system,
  }) + '\n',
);
