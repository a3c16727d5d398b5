// The sandbox's core globals and the hooks the native event loop drives.
//
// Evaluated once at build time (under wizer), after inspect.js and the web
// APIs. It takes the natives it uses and returns the hooks (both listed in
// protocol.rs); neither is ever reachable from agent code. Every run starts
// from the snapshot taken after this ran, so nothing set here by one run
// leaks into the next.
(function install(native, internal) {
  'use strict';
  const {
    call,
    methodIndex,
    methodNames,
    log: writeLog,
    logLevel: { debug: DEBUG, info: INFO, log: LOG, warn: WARN, error: ERROR },
    search: searchCatalog,
    describe: describeMethod,
    documentRoot,
    random: nextRandom,
    now: elapsed,
    failure: { exception: EXCEPTION, unsettled: UNSETTLED, unserializable: UNSERIALIZABLE, rejected: REJECTED, denied: DENIED },
  } = native;
  const { inspect, format } = internal;
  // What the hooks use after the script has run, taken now: a script that
  // replaces JSON.stringify or Array.prototype.push breaks only its own code.
  const { apply } = Reflect;
  const { stringify, parse } = JSON;
  const { keys, values, entries, freeze, create, defineProperty } = Object;
  const { isArray } = Array;
  const { isInteger } = Number;
  const regexpExec = RegExp.prototype.exec;
  const toWellFormed = String.prototype.toWellFormed;
  const exec = (pattern, text) => apply(regexpExec, pattern, [text]);
  const wellFormed = (text) => apply(toWellFormed, text, []);
  const g = globalThis;
  const define = (target, name, value) =>
    defineProperty(target, name, { value, writable: true, configurable: true, enumerable: false });

  // `Error.prepareStackTrace` would hand scripts call sites whose
  // `getFunction()` returns the sandbox's own functions: fix it to undefined.
  defineProperty(Error, 'prepareStackTrace', { value: undefined, writable: false, configurable: false });
  const AGENT_FILE = 'agent.js';

  // Math.random draws from a seed that the guest renews on every run.
  define(Math, 'random', function random() {
    return nextRandom();
  });

  // console: every line becomes one host log event, formatted like Node's.
  const console = {};
  let logOpen = true;
  const emit = (level, args) => {
    if (logOpen) logOpen = writeLog(level, wellFormed(format(args)));
  };
  const LEVELS = { debug: DEBUG, info: INFO, log: LOG, warn: WARN, error: ERROR, trace: DEBUG };
  for (const [name, level] of entries(LEVELS)) {
    define(console, name, function (...args) {
      emit(level, args);
    });
  }
  define(console, 'dir', function dir(value) {
    emit(LOG, [inspect(value)]);
  });
  define(console, 'assert', function assert(condition, ...args) {
    if (!condition) emit(ERROR, ['Assertion failed' + (args.length ? ':' : ''), ...args]);
  });
  define(g, 'console', console);

  // Timers: real waiting, bounded by the host's deadline.
  const timers = new Map();
  let nextTimerId = 1;
  const schedule = (callback, delay, args, repeat) => {
    if (typeof callback !== 'function') {
      throw new TypeError('the callback must be a function, got ' + inspect(callback));
    }
    const ms = Math.max(repeat ? 1 : 0, Number(delay) || 0);
    const id = nextTimerId++;
    timers.set(id, { at: elapsed() + ms, callback, args, repeat: repeat ? ms : 0 });
    return id;
  };
  define(g, 'setTimeout', function setTimeout(callback, delay, ...args) {
    return schedule(callback, delay, args, false);
  });
  define(g, 'setInterval', function setInterval(callback, delay, ...args) {
    return schedule(callback, delay, args, true);
  });
  define(g, 'clearTimeout', function clearTimeout(id) {
    timers.delete(id);
  });
  define(g, 'clearInterval', function clearInterval(id) {
    timers.delete(id);
  });

  // Connectors: one frozen namespace per granted connector.
  class ConnectorError extends Error {
    constructor(code, message, connector, method) {
      super(message);
      this.code = code;
      this.connector = connector;
      this.method = method;
    }
  }
  define(ConnectorError.prototype, 'name', 'ConnectorError');
  define(g, 'ConnectorError', ConnectorError);
  // The host's codes for the two (no connector's error carries them).
  const REJECTED_CODE = 'approval-rejected';
  const DENIED_CODE = 'policy-denied';
  // A call a person (or the approver acting for one) rejected, or that
  // waited past the approval timeout (reason "expired").
  class ApprovalRejectedError extends ConnectorError {
    constructor(reason, connector, method) {
      super(REJECTED_CODE, `${connector}.${method} was rejected: ${reason}`, connector, method);
      this.reason = reason;
      this.call = `${connector}.${method}`;
    }
  }
  define(ApprovalRejectedError.prototype, 'name', 'ApprovalRejectedError');
  define(g, 'ApprovalRejectedError', ApprovalRejectedError);
  // A call the approval policy denies outright.
  class CallDeniedError extends ConnectorError {
    constructor(message, connector, method) {
      super(DENIED_CODE, message, connector, method);
      this.call = `${connector}.${method}`;
    }
  }
  define(CallDeniedError.prototype, 'name', 'CallDeniedError');
  define(g, 'CallDeniedError', CallDeniedError);
  // An uncaught rejection or denial ends the run with its own kind. A
  // thrown Proxy may trap the prototype lookup: then it is an exception.
  const failureOf = (failure, error) => {
    if (failure !== EXCEPTION) return failure;
    try {
      if (error instanceof ApprovalRejectedError) return REJECTED;
      if (error instanceof CallDeniedError) return DENIED;
    } catch {
      // Not one of ours.
    }
    return EXCEPTION;
  };

  const readData = function body() {
    return this.data;
  };

  const bind = Function.prototype.bind;
  const ProxyConstructor = Proxy;
  const connectorNames = [];

  // The state of the run the loop drives.
  let outcome = null;
  const failWith = (failure, error) => {
    if (outcome === null) outcome = { failure, error };
  };
  class UnsettledPromiseError extends Error {}
  define(UnsettledPromiseError.prototype, 'name', 'UnsettledPromiseError');

  const fireTimers = () => {
    const now = elapsed();
    const due = [...timers].filter(([, t]) => t.at <= now).sort((a, b) => a[1].at - b[1].at || a[0] - b[0]);
    for (const [id, timer] of due) {
      if (!timers.has(id)) continue;
      if (timer.repeat) timer.at = now + timer.repeat;
      else timers.delete(id);
      try {
        timer.callback(...timer.args);
      } catch (error) {
        failWith(EXCEPTION, error);
      }
    }
  };

  // The innermost frame in the agent's code: `agent.js:LINE:COLUMN`.
  const position = (stack) => {
    const found = exec(/agent\.js:(\d+):(\d+)/, stack);
    return found ? { line: +found[1], column: +found[2] } : {};
  };

  // What the script threw is the script's: a getter or a Proxy trap on it may
  // throw in turn, and inspecting it may fail. Nothing of it may make the
  // report fail, or the script's error would read as the sandbox's.
  // (Own properties only are read back from what `read` returns: a script
  // may have polluted Object.prototype.)
  const read = (object, key) => {
    try {
      return { ok: true, value: object[key] };
    } catch (thrown) {
      return { ok: false, thrown };
    }
  };
  const inspectQuietly = (value) => {
    try {
      return wellFormed(inspect(value));
    } catch {
      return '(a value that cannot be inspected)';
    }
  };
  const describe = (error) => {
    if (error !== null && typeof error === 'object') {
      const got = read(error, 'message');
      if (!got.ok) {
        const message = 'Uncaught exception whose `message` threw: ' + inspectQuietly(got.thrown);
        return { name: 'Error', message, stack: '' };
      }
      if (typeof got.value === 'string') {
        let message = wellFormed(got.value);
        const named = read(error, 'name');
        const name = named.ok && typeof named.value === 'string' && named.value !== '' ? wellFormed(named.value) : 'Error';
        if (name === 'ReferenceError' && message.length < 200 && exec(/^'?[\w$]+'? is not defined$/, message)) {
          let granted = '';
          for (let i = 0; i < connectorNames.length; i++) granted += (granted ? ', ' : '') + connectorNames[i];
          message += granted ? `; the granted connectors are: ${granted}` : '; no connectors are granted to this run';
        }
        const traced = read(error, 'stack');
        const stack = traced.ok && typeof traced.value === 'string' ? wellFormed(traced.value) : '';
        return { name, message, stack, ...position(stack) };
      }
    }
    return { name: 'Error', message: 'Uncaught ' + inspectQuietly(error), stack: '' };
  };

  // Where in the result the first value JSON cannot hold sits, for the error.
  const findUnserializable = (value) => {
    const ancestors = [];
    const visit = (v, path) => {
      if (typeof v === 'bigint') return `a BigInt at ${path}: convert it with String() or Number()`;
      if (typeof v === 'function') return `a function at ${path}`;
      if (typeof v === 'symbol') return `a symbol at ${path}`;
      if (v === null || typeof v !== 'object') return null;
      if (typeof v.toJSON === 'function') return null;
      for (let i = 0; i < ancestors.length; i++) {
        if (ancestors[i] === v) return `a circular reference at ${path}`;
      }
      ancestors[ancestors.length] = v;
      const array = isArray(v);
      for (const key of keys(v)) {
        const child = v[key];
        if (!array && child === undefined) continue;
        const found = visit(child, array ? `${path}[${key}]` : `${path}.${key}`);
        if (found) return found;
      }
      ancestors.length--;
      return null;
    };
    return visit(value, '$');
  };

  // Functions and symbols are errors, not silently dropped; strings with
  // lone surrogates are made well-formed (U+FFFD), as TextEncoder does.
  const strictValues = function (key, value) {
    switch (typeof value) {
      case 'function':
      case 'symbol':
        throw new TypeError(typeof value);
      case 'string':
        return wellFormed(value);
      default:
        return value;
    }
  };

  // Discovery: `codemode.search(query, { limit })` ranks the granted
  // connectors' methods; `codemode.describe(name)` gives one method's
  // TypeScript declaration and schemas. The host keeps the index.
  const codemode = create(null);
  define(codemode, 'search', function search(query, options) {
    if (typeof query !== 'string') {
      throw new TypeError('codemode.search(query, { limit }): `query` must be a string, got ' + inspect(query));
    }
    let limit = 10;
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') {
        throw new TypeError('codemode.search(query, { limit }): the options must be an object, got ' + inspect(options));
      }
      if (options.limit !== undefined) {
        limit = options.limit;
        if (!isInteger(limit) || limit < 1 || limit > 50) {
          throw new RangeError('codemode.search(query, { limit }): `limit` must be an integer from 1 to 50, got ' + inspect(limit));
        }
      }
    }
    return parse(searchCatalog(query, limit));
  });
  // `codemode.describe(name, { expand })`: `expand` names types the
  // declaration leaves undeclared ("Not declared here: …"), each declared
  // after it; `codemode.describe("namespace.TypeName")` declares one alone.
  const MAX_EXPAND = 20;
  define(codemode, 'describe', function describe(name, options) {
    const usage = 'codemode.describe(name, { expand })';
    if (typeof name !== 'string') {
      throw new TypeError(usage + ': `name` must be a string such as "github.repos_get", got ' + inspect(name));
    }
    let expand = [];
    if (options !== undefined && options !== null) {
      if (typeof options !== 'object') {
        throw new TypeError(usage + ': the options must be an object, got ' + inspect(options));
      }
      if (options.expand !== undefined) {
        expand = options.expand;
        if (!isArray(expand) || expand.length > MAX_EXPAND || !expand.every((type) => typeof type === 'string')) {
          throw new TypeError(usage + ': `expand` must be an array of at most ' + MAX_EXPAND + ' type names, got ' + inspect(expand));
        }
      }
    }
    const described = parse(describeMethod(name));
    const dot = described.name.indexOf('.');
    const namespace = dot < 0 ? '' : described.name.slice(0, dot);
    for (let i = 0; i < expand.length; i++) {
      described.declaration += parse(describeMethod(namespace + '.' + expand[i])).declaration;
    }
    return described;
  });
  define(g, 'codemode', freeze(codemode));

  return {
    // Each method is the native `call` bound to the connector's and the
    // method's index in the lists the natives hold.
    installConnector(index, name, methods) {
      const namespace = create(null);
      for (let method = 0; method < methods.length; method++) {
        namespace[methods[method]] = call.bind(undefined, index, method);
      }
      define(g, name, freeze(namespace));
      connectorNames[connectorNames.length] = name;
    },
    // A value the host hands the script: frozen all the way down, and
    // neither writable nor deletable.
    installGlobal(name, value) {
      const pending = [value];
      while (pending.length > 0) {
        const next = pending[pending.length - 1];
        pending.length -= 1;
        if (next !== null && typeof next === 'object') {
          freeze(next);
          const children = values(next);
          for (let i = 0; i < children.length; i++) pending[pending.length] = children[i];
        }
      }
      defineProperty(g, name, { value, writable: false, configurable: false, enumerable: false });
    },
    // The global `name`: a frozen object whose property `names[i]` is the
    // document numbered `documents[i]`, read at first access; its nodes are
    // built natively (see documents.rs) as the script touches them.
    // The global `name`: the document numbered `document` itself.
    installDocument(name, document) {
      defineProperty(g, name, { get: documentRoot(document), enumerable: false, configurable: false });
    },
    installDocuments(name, names, documents) {
      const holder = {};
      for (let i = 0; i < names.length; i++) {
        defineProperty(holder, names[i], { get: documentRoot(documents[i]), enumerable: true });
      }
      defineProperty(g, name, { value: freeze(holder), writable: false, configurable: false, enumerable: false });
    },
    // A large connector's namespace is a proxy that looks a method up (in
    // the natives' list) the first time the script uses it, and keeps it.
    // It behaves like the frozen namespace of a small connector, except
    // that `Object.isFrozen` says false: unknown names are `undefined`,
    // writes fail, enumeration lists every method.
    installLazyConnector(index, name) {
      const found = create(null);
      const method = (key) => {
        if (typeof key !== 'string') return undefined;
        const known = found[key];
        if (known !== undefined) return known;
        const at = methodIndex(index, key);
        if (at < 0) return undefined;
        // `bind` was taken before any script ran: a script's own
        // Function.prototype.bind never sees the native.
        return (found[key] = apply(bind, call, [undefined, index, at]));
      };
      const refuse = () => false;
      const namespace = new ProxyConstructor(create(null), {
        get: (target, key) => method(key),
        has: (target, key) => method(key) !== undefined,
        ownKeys: () => methodNames(index),
        getOwnPropertyDescriptor(target, key) {
          const value = method(key);
          return value === undefined ? undefined : { value, writable: false, enumerable: true, configurable: true };
        },
        set: refuse,
        defineProperty: refuse,
        deleteProperty: refuse,
        setPrototypeOf: refuse,
        preventExtensions: refuse,
      });
      define(g, name, namespace);
      connectorNames[connectorNames.length] = name;
    },
    // `promise` is the script's evaluation, resolving to `{ value }` (its
    // last value); a module's resolves to nothing, and its result is the
    // namespace's default export.
    finish(promise, namespace) {
      promise
        .then((completion) => {
          const value = namespace === undefined ? completion.value : namespace.default;
          return typeof value === 'function' ? value() : value;
        })
        .then(
          (value) => {
            if (outcome === null) outcome = { value };
          },
          (error) => failWith(EXCEPTION, error),
        );
    },
    fail(error) {
      failWith(EXCEPTION, error);
    },
    settled() {
      return outcome !== null;
    },
    unsettled() {
      failWith(
        UNSETTLED,
        new UnsettledPromiseError(
          'the script awaited a promise that can never settle: no connector call or timer is pending',
        ),
      );
    },
    nextTimer() {
      if (timers.size === 0) return -1;
      let at = Infinity;
      for (const timer of timers.values()) if (timer.at < at) at = timer.at;
      return Math.max(0, at - elapsed());
    },
    fireTimers,
    report() {
      if (outcome.failure !== undefined) return { failure: failureOf(outcome.failure, outcome.error), ...describe(outcome.error) };
      const value = outcome.value;
      if (value === undefined) return {};
      let json;
      // Getters in the result run again while looking for the culprit, and
      // may throw this time.
      const where = () => {
        try {
          return findUnserializable(value);
        } catch {
          return null;
        }
      };
      try {
        json = stringify(value, strictValues);
      } catch (error) {
        const why = where() || describe(error).message;
        return { failure: UNSERIALIZABLE, name: 'TypeError', message: 'the result cannot be represented as JSON: ' + why };
      }
      if (json === undefined) {
        const why = where() || typeof value;
        return { failure: UNSERIALIZABLE, name: 'TypeError', message: 'the result cannot be represented as JSON: ' + why };
      }
      return { json };
    },
    // What the natives need from JavaScript to make calls.
    stringify,
    parse,
    connectorError: (code, message, connector, method) =>
      code === REJECTED_CODE
        ? new ApprovalRejectedError(message, connector, method)
        : code === DENIED_CODE
          ? new CallDeniedError(message, connector, method)
          : new ConnectorError(code, message, connector, method),
    argumentsError: (connector, method, reason) =>
      new TypeError(`the arguments to ${connector}.${method} are not JSON: ${reason}`),
    // An HTTP API operation's reply, `{ data, status, headers }`, still
    // answers to `body` (its name for `data` before), for one release. Not
    // enumerable: a script that returns the whole reply gets `data` once.
    aliasBody(reply) {
      defineProperty(reply, 'body', { get: readData, enumerable: false, configurable: true });
    },
  };
});
