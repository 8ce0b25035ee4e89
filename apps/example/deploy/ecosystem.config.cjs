// The Quiesce example under PM2:  pm2 start apps/example/deploy/ecosystem.config.cjs
//
// wait_ready: PM2 counts the app online (and, on `pm2 reload`, stops the old instance) only once it
//   gets process.send('ready'), which the lifecycle sends at the moment it serves. listen_timeout
//   is how long PM2 waits for it.
// kill_timeout: PM2 stops an app with SIGINT and sends SIGKILL kill_timeout ms later (1 600 ms by
//   default: far less than a drain). Keep it above QUIESCE_DEADLINE_MS, which bounds the whole
//   shutdown, so PM2's SIGKILL only comes for a process that overran its own deadline.
// Cluster mode: `pm2 reload` starts a new instance, waits for its 'ready', then stops an old one,
//   one instance at a time; the instances share the port through Node's cluster module.
const { join } = require('node:path');

module.exports = {
  apps: [
    {
      name: 'quiesce-example',
      cwd: join(__dirname, '../../..'),
      script: 'apps/example/dist/server.js',
      exec_mode: 'cluster',
      instances: 2,
      wait_ready: true,
      listen_timeout: 10_000,
      kill_timeout: 30_000,
      env: {
        NODE_ENV: 'production',
        HOST: '0.0.0.0',
        PORT: '3000',
        QUIESCE_DEADLINE_MS: '25000',
        QUIESCE_LAME_DUCK_MS: '0',
      },
    },
  ],
};
