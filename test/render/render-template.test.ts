import test from 'ava';
import { UserError } from '../../src/errors.ts';
import { renderTemplate } from '../../src/render/render-template.ts';

const SOURCE = 'overlays/x/rootfs/etc/x.conf.mustache';

test('HTML escaping is off for {{x}} and {{{x}}}', (t) => {
  const view = { value: `a&b <c> "d" 'e'` };
  t.is(
    renderTemplate('{{value}}|{{{value}}}|{{&value}}', view, SOURCE),
    `a&b <c> "d" 'e'|a&b <c> "d" 'e'|a&b <c> "d" 'e'`,
  );
});

test('dotted names and numbers render', (t) => {
  const view = { network: { router: '192.168.87.1', prefix: 24 } };
  t.is(
    renderTemplate('address1={{network.router}}/{{network.prefix}}', view, SOURCE),
    'address1=192.168.87.1/24',
  );
});

test('sections over lists render each item, and outer names resolve inside', (t) => {
  const view = {
    network: { lan: 'eth0' },
    reservations: [
      { name: 'pi1', mac: 'd8:3a:dd:f7:78:e0', ip: '192.168.87.101' },
      { name: 'data1', mac: '1c:69:7a:a2:6f:89', ip: '192.168.87.2' },
    ],
  };
  const template =
    '{{#reservations}}\ndhcp-host={{mac}},{{ip}},{{name}} # {{network.lan}}\n{{/reservations}}\n';
  t.is(
    renderTemplate(template, view, SOURCE),
    'dhcp-host=d8:3a:dd:f7:78:e0,192.168.87.101,pi1 # eth0\ndhcp-host=1c:69:7a:a2:6f:89,192.168.87.2,data1 # eth0\n',
  );
});

test('inverted sections render when the list is empty', (t) => {
  t.is(renderTemplate('{{^items}}none{{/items}}{{#items}}x{{/items}}', { items: [] }, SOURCE), 'none');
});

test('a missing name fails, naming the file, the name and the line', (t) => {
  const error = t.throws(
    () => renderTemplate('a\nb={{host.macc}}\n', { host: { name: 'pi1', ip: '1.2.3.4' } }, SOURCE),
    {
      instanceOf: UserError,
    },
  );
  t.is(error.message, `${SOURCE}: the template uses a name the view does not supply: host.macc`);
  t.deepEqual(error.details, [
    `${SOURCE}:2: {{host.macc}} is not in the view — known here: host.name, host.ip`,
  ]);
});

test('a missing name inside a section over a list fails once per use', (t) => {
  const view = {
    reservations: [
      { mac: 'a', ip: 'b' },
      { mac: 'c', ip: 'd' },
    ],
  };
  const error = t.throws(
    () => renderTemplate('{{#reservations}}{{mac}} {{hostname}}\n{{/reservations}}', view, SOURCE),
    {
      instanceOf: UserError,
    },
  );
  t.is(error.message, `${SOURCE}: the template uses a name the view does not supply: hostname`);
  t.deepEqual(error.details, [
    `${SOURCE}:1: {{hostname}} is not in the view — known here: mac, ip, reservations`,
  ]);
});

test('a missing section name fails, and so does an undefined value', (t) => {
  const error = t.throws(() => renderTemplate('{{#hosts}}x{{/hosts}}{{a}}', { a: undefined }, SOURCE), {
    instanceOf: UserError,
  });
  t.is(error.message, `${SOURCE}: the template uses names the view does not supply: hosts, a`);
});

test('a mapping or list used as a value fails', (t) => {
  const error = t.throws(
    () => renderTemplate('{{network}} {{list}}', { network: { lan: 'eth0' }, list: [1] }, SOURCE),
    {
      instanceOf: UserError,
    },
  );
  t.deepEqual(error.details, [
    `${SOURCE}:1: {{network}} is a mapping, not a value — known here: network, list`,
    `${SOURCE}:1: {{list}} is a list, not a value — known here: network, list`,
  ]);
});

test('inherited properties do not count as present', (t) => {
  t.throws(() => renderTemplate('{{toString}}', {}, SOURCE), { instanceOf: UserError });
});

test('a syntax error names the file and line', (t) => {
  const error = t.throws(() => renderTemplate('ok\n{{#a}}\nno close\n', { a: true }, SOURCE), {
    instanceOf: UserError,
  });
  t.is(error.message, `${SOURCE}: template syntax error`);
  t.regex(error.details[0] ?? '', /^overlays\/x\/rootfs\/etc\/x\.conf\.mustache:4: Unclosed section "a"/);
});

test('partials are refused', (t) => {
  const error = t.throws(() => renderTemplate('{{> other}}', {}, SOURCE), { instanceOf: UserError });
  t.deepEqual(error.details, [`${SOURCE}:1: {{other}} is a partial; partials are not supported`]);
});
