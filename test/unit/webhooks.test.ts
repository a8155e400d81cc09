/**
 * Webhook rules without a database: which addresses a delivery may reach (every address
 * class, IPv4 and IPv6, IPv4-mapped IPv6), how URLs are checked, and Standard Webhooks
 * signatures, made by the service and verified by the SDK, against the specification's own
 * example.
 */
import t from 'tap'
import { verifyWebhook, WebhookVerificationError } from '../../src/client/index.js'
import { refusedAddress } from '../../src/domain/addresses.js'
import { normalizeEventTypes, webhookSignature } from '../../src/domain/webhooks.js'
import { checkTarget } from '../../src/jobs/webhook-targets.js'

t.test('refusedAddress', async (t) => {
  const refused: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'], ['127.255.0.9', 'loopback'], ['::1', 'loopback'],
    ['10.1.2.3', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'], ['192.168.0.1', 'private'],
    ['169.254.169.254', 'link-local'], ['169.254.0.1', 'link-local'], ['fe80::1', 'link-local'],
    ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'], ['fd00:ec2::254', 'unique-local'],
    ['100.64.0.1', 'CGNAT'], ['100.127.255.254', 'CGNAT'],
    ['0.0.0.0', 'unspecified'], ['::', 'unspecified'],
    ['224.0.0.251', 'multicast'], ['ff02::1', 'multicast'], ['255.255.255.255', 'broadcast'],
    ['::ffff:127.0.0.1', 'loopback'], ['::ffff:10.0.0.1', 'private'], ['::ffff:169.254.169.254', 'link-local'],
    ['192.0.2.1', 'special-purpose'], ['2001:db8::1', 'special-purpose'], ['64:ff9b::a00:1', 'special-purpose'], ['2002:a00:1::', 'special-purpose']
  ]
  for (const [address, kind] of refused) {
    t.match(refusedAddress(address, false), new RegExp(kind), `${address}: ${kind}`)
  }
  for (const address of ['93.184.215.14', '8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:81c::200e', '::ffff:8.8.8.8']) {
    t.equal(refusedAddress(address, false), null, `${address} is public`)
  }
  for (const address of ['127.0.0.1', '10.0.0.1', '::1', 'fd00:ec2::254', '169.254.169.254']) {
    t.equal(refusedAddress(address, true), null, `${address} allowed with private targets`)
  }
  t.not(refusedAddress('224.0.0.1', true), null, 'multicast never')
  t.not(refusedAddress('not-an-address', true), null)
})

t.test('checkTarget', async (t) => {
  const resolve = async (host: string): Promise<Array<{ address: string, family: number }>> =>
    host === 'rebind.example' ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '93.184.215.14', family: 4 }]
  const strict = { allowPrivate: false, resolve }
  t.match(await checkTarget('https://hooks.example.com/x', strict), { ok: true, addresses: [{ address: '93.184.215.14' }] })
  t.match(await checkTarget('http://hooks.example.com/x', strict), { ok: false, error: 'invalid-url' })
  t.match(await checkTarget('https://rebind.example/x', strict), { ok: false, error: 'refused-address' })
  for (const spelling of ['https://2130706433/', 'https://0x7f.1/', 'https://0177.0.0.01/', 'https://127.1/', 'https://[::ffff:7f00:1]/', 'https://[0:0:0:0:0:ffff:127.0.0.1]/']) {
    t.match(await checkTarget(spelling, strict), { ok: false, error: 'refused-address' }, `${spelling}: loopback`)
  }
  t.match(await checkTarget('http://rebind.example:8080/x', { allowPrivate: true, resolve }), { ok: true })
})

// The Standard Webhooks specification's example (secret, id, timestamp, body → signature).
const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='
}

t.test('webhookSignature matches the specification\'s example', async (t) => {
  t.equal(webhookSignature(SPEC.secret, SPEC.id, SPEC.timestamp, SPEC.body), SPEC.signature)
})

t.test('verifyWebhook', async (t) => {
  const at = new Date(SPEC.timestamp * 1000)
  const headers = { 'webhook-id': SPEC.id, 'webhook-timestamp': String(SPEC.timestamp), 'webhook-signature': SPEC.signature }
  t.same(await verifyWebhook(SPEC.secret, headers, SPEC.body, { now: at }), { test: 2432232314 }, 'the example verifies')
  t.same(await verifyWebhook(SPEC.secret, new Headers(headers), new TextEncoder().encode(SPEC.body), { now: new Date(at.getTime() + 299_000) }), { test: 2432232314 }, 'Headers, bytes, 299 s later')
  t.same(await verifyWebhook(SPEC.secret, { ...headers, 'webhook-signature': `v1,bm90IGl0 ${SPEC.signature}` }, SPEC.body, { now: at }), { test: 2432232314 }, 'one of several signatures')
  const refusals: Array<[string, Record<string, string>, string, Date]> = [
    ['a changed body', headers, '{"test": 2432232315}', at],
    ['another id', { ...headers, 'webhook-id': 'msg_other' }, SPEC.body, at],
    ['a wrong signature', { ...headers, 'webhook-signature': 'v1,Zm9v' }, SPEC.body, at],
    ['another version', { ...headers, 'webhook-signature': SPEC.signature.replace('v1,', 'v2,') }, SPEC.body, at],
    ['too old', headers, SPEC.body, new Date(at.getTime() + 301_000)],
    ['from the future', headers, SPEC.body, new Date(at.getTime() - 301_000)],
    ['no timestamp', { 'webhook-id': SPEC.id, 'webhook-signature': SPEC.signature }, SPEC.body, at]
  ]
  for (const [name, given, body, now] of refusals) {
    await t.rejects(verifyWebhook(SPEC.secret, given, body, { now }), WebhookVerificationError, name)
  }
  await t.rejects(verifyWebhook('whsec_' + Buffer.from('another key of 24 bytes!').toString('base64'), headers, SPEC.body, { now: at }), WebhookVerificationError, 'another secret')
})

t.test('normalizeEventTypes', async (t) => {
  t.same(normalizeEventTypes(['task.created', 'task.created', 'category.deleted']), ['task.created', 'category.deleted'])
  t.same(normalizeEventTypes(['task.created', '*']), ['*'])
})
