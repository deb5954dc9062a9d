import path from 'node:path';
import test from 'ava';
import { loadLab } from '../../src/lab/load-lab.ts';
import { buildTemplateView } from '../../src/recipes/template-view.ts';
import { PROJECT_DIR } from './project-fixture.ts';

test('the view holds the host, the network and every reservation in lab order', async (t) => {
  const lab = await loadLab(path.join(PROJECT_DIR, 'recipes/lab.yaml'), { projectDir: PROJECT_DIR });
  const router = lab.hosts[0];
  if (!router) throw new Error('the sample lab has no hosts');
  const view = buildTemplateView(lab, router);
  t.deepEqual(view, {
    host: { name: 'pi0' },
    network: {
      subnet: '192.168.87.0/24',
      address: '192.168.87.0',
      prefix: 24,
      netmask: '255.255.255.0',
      router: '192.168.87.1',
      lan: 'eth0',
      uplink: 'wlan0',
      dhcp: { start: '192.168.87.11', end: '192.168.87.99', lease: '24h' },
    },
    reservations: [
      { name: 'pi1', mac: 'd8:3a:dd:f7:78:e0', ip: '192.168.87.101' },
      { name: 'pi2', mac: 'd8:3a:dd:f7:77:d8', ip: '192.168.87.102' },
      { name: 'pi3', mac: 'd8:3a:dd:e9:d4:3e', ip: '192.168.87.103' },
      { name: 'data1', mac: '1c:69:7a:a2:6f:89', ip: '192.168.87.2' },
    ],
  });
  t.false('mac' in view.host, 'absent host fields are left out, so templates naming them fail');
  t.deepEqual(buildTemplateView(lab, lab.hosts[1] ?? router).host, {
    name: 'pi1',
    mac: 'd8:3a:dd:f7:78:e0',
    ip: '192.168.87.101',
  });
});
