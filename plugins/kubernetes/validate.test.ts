import { expect } from 'chai';
import { http80, namespace, pod, service, slice } from '../../test/fixtures/k8s-objects.js';
import { trimEndpointSlice } from './objects.js';
import type { ResourceKind } from './objects.js';
import { checkObject } from './validate.js';

const svc = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({ metadata: { name: 'db', namespace: 'prod', ...meta }, spec });
const eps = (endpoints: unknown, extra: Record<string, unknown> = {}) => ({ metadata: { name: 'db-1', namespace: 'prod' }, endpoints, ...extra });

describe('kubernetes: checkObject', () => {
  const accepted: [string, ResourceKind, unknown][] = [
    ['a ClusterIP Service', 'services', service('prod', 'db', { clusterIPs: ['10.0.0.1', 'fd00::1'], ports: http80 })],
    ['a headless Service', 'services', service('prod', 'db')],
    ['an ExternalName Service', 'services', service('prod', 'ext', { type: 'ExternalName', externalName: 'Example.ORG.' })],
    ['a Service without clusterIP (pending)', 'services', svc({ clusterIP: '' })],
    ['a Service with unread fields of any type', 'services', { ...svc({}), status: 5, apiVersion: [] }],
    ['an EndpointSlice', 'endpointslices', slice('prod', 'db-1', 'db', [{ ip: '10.1.0.1', hostname: 'db-0', ready: false }], http80)],
    ['an EndpointSlice with null endpoints and a portless port', 'endpointslices', eps(null, { ports: [{ name: 'all', port: null }] })],
    ['a trimmed EndpointSlice', 'endpointslices', trimEndpointSlice(slice('prod', 'db-1', 'db', [{ ip: '10.1.0.1', pod: 'Pod.With.Dots' }]), { podNames: true })],
    ['a Namespace', 'namespaces', namespace('prod')],
    ['a Pod', 'pods', pod('prod', 'web-0.x', '10.244.0.1')],
    ['a Pod without IPs yet', 'pods', { metadata: { name: 'p', namespace: 'prod' }, status: { podIP: '' } }],
  ];
  for (const [name, kind, obj] of accepted) {
    it(`accepts ${name}`, () => expect(checkObject(kind, obj)).to.equal(undefined));
  }

  const refused: [string, ResourceKind, unknown, RegExp][] = [
    ['null', 'services', null, /object: expected an object, got null/],
    ['a list', 'namespaces', [], /got a list/],
    ['no metadata', 'services', { spec: {} }, /^metadata: expected an object/],
    ['a name that is not a label', 'services', svc({}, { name: 'Db' }), /metadata.name: not a DNS-1123 label: "Db"/],
    ['a name of 64 characters', 'namespaces', { metadata: { name: 'a'.repeat(64) } }, /metadata.name: not a DNS-1123 label/],
    ['a slice name over 253 characters', 'endpointslices', eps([], { metadata: { name: 'a'.repeat(254), namespace: 'prod' } }), /metadata.name: not a DNS-1123 subdomain/],
    ['a numeric namespace', 'services', svc({}, { namespace: 7 }), /metadata.namespace: not a DNS-1123 label: 7/],
    ['labels not an object', 'services', svc({}, { labels: 'app=web' }), /metadata.labels: expected an object/],
    ['a label value not a string', 'services', svc({}, { labels: { app: 1 } }), /metadata.labels\["app"\]: expected a string/],
    ['a bad service-name label', 'endpointslices', { ...eps([]), metadata: { name: 'x', namespace: 'prod', labels: { 'kubernetes.io/service-name': 'a b' } } }, /not a Service name/],
    ['no spec', 'services', { metadata: { name: 'db' } }, /^spec: expected an object, got undefined/],
    ['a bad cluster IP', 'services', svc({ clusterIP: '10.0.0.256' }), /spec.clusterIP: not an IP address/],
    ['a bad second cluster IP', 'services', svc({ clusterIPs: ['10.0.0.1', 'fd00::g'] }), /spec.clusterIPs\[1\]: not an IP address/],
    ['a port as a string', 'services', svc({ ports: [{ port: '80' }] }), /spec.ports\[0\].port: not a port number: "80"/],
    ['a Service port missing', 'services', svc({ ports: [{ name: 'http' }] }), /spec.ports\[0\].port: not a port number/],
    ['an ExternalName without a name', 'services', svc({ type: 'ExternalName' }), /spec.externalName: missing/],
    ['an external name with a space', 'services', svc({ type: 'ExternalName', externalName: 'a b.org' }), /not a DNS name/],
    ['a huge external name', 'services', svc({ type: 'ExternalName', externalName: 'a'.repeat(100_000) }), /spec.externalName: longer than 254/],
    ['endpoints not a list', 'endpointslices', eps({}), /^endpoints: expected a list/],
    ['an endpoint without addresses', 'endpointslices', eps([{}]), /endpoints\[0\].addresses: expected a list/],
    ['a bad address', 'endpointslices', eps([{ addresses: ['10.0.0.1', 'x'] }]), /endpoints\[0\].addresses\[1\]: not an IP address: "x"/],
    ['ready as a string', 'endpointslices', eps([{ addresses: ['10.0.0.1'], conditions: { ready: 'true' } }]), /conditions.ready: expected a boolean/],
    ['a hostname that is not a label', 'endpointslices', eps([{ addresses: ['10.0.0.1'], hostname: 'a.b' }]), /hostname: not a DNS-1123 label/],
    ['trimmed names not as long as ips', 'endpointslices', eps(undefined, { ips: ['10.0.0.1'], names: [] }), /names: not as long as ips/],
    ['a pod IP that is no IP', 'pods', { metadata: { name: 'p' }, status: { podIPs: [{ ip: 'none' }] } }, /status.podIPs\[0\].ip: not an IP address/],
    ['a pod IP entry that is a string', 'pods', { metadata: { name: 'p' }, status: { podIPs: ['10.0.0.1'] } }, /status.podIPs\[0\]: expected an object/],
  ];
  for (const [name, kind, obj, why] of refused) {
    it(`refuses ${name}`, () => expect(checkObject(kind, obj)).to.match(why));
  }

  it('checks only the identity of a deletion', () => {
    expect(checkObject('services', { metadata: { name: 'db', namespace: 'prod' }, spec: 'gone' }, true)).to.equal(undefined);
    expect(checkObject('services', { metadata: { name: 5 } }, true)).to.match(/metadata.name/);
  });
});
