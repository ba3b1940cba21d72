// Preloaded into a Node server under test: a listen() on a bare port binds to 127.0.0.1 only
// (servers in tests never listen on other interfaces).
const net = require('net');
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    const done = args.find((a) => typeof a === 'function');
    return listen.call(this, { port: Number(args[0]), host: '127.0.0.1' }, done);
  }
  return listen.apply(this, args);
};
