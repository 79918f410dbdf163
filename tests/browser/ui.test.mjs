// Browser tests of the medfund web UI in Debian's headless Chromium (playwright-core, no browser
// download). Run by tests/browser/run.sh against a server it starts on a prepared demo data dir.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const BASE = process.env.MEDFUND_URL;
const SHOTS = process.env.MEDFUND_SCREENSHOTS || '';
assert.ok(BASE, 'MEDFUND_URL is set by run.sh');

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medfund-chromium-'));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failures = 0;
const errors = [];

async function test(name, fn) {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => errors.push(`${name}: ${e.message}`));
  try {
    await fn(page);
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}\n     ${e.stack || e}`);
  } finally {
    await page.close();
  }
}

async function shot(page, name) {
  // Let chart animations finish so the picture shows the final state.
  if (SHOTS) await page.waitForTimeout(1500);
  if (SHOTS) await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: false });
}

async function login(page, user, pass) {
  // A fresh document each time, so no state of the previous user survives in the page.
  await page.context().clearCookies();
  await page.goto('about:blank');
  await page.goto(BASE + '/#/login');
  await page.fill('#login-user', user);
  await page.fill('#login-pass', pass);
  await page.click('#login-btn');
  await page.waitForSelector('#nav a');
}

await test('wrong password is refused with a message', async (page) => {
  await page.context().clearCookies();
  await page.goto(BASE + '/#/login');
  await page.fill('#login-user', 'auditor');
  await page.fill('#login-pass', 'not-the-password');
  await page.click('#login-btn');
  await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
  assert.match(await page.textContent('#login-error'), /登录失败|login failed/);
  await shot(page, 'login');
});

await test('auditor logs in and the dashboard charts render', async (page) => {
  await login(page, 'auditor', 'auditor@Medfund1');
  await page.waitForSelector('#chart-category canvas');
  for (const id of ['chart-payable', 'chart-trend', 'chart-category', 'chart-institution', 'chart-budget']) {
    const size = await page.$eval(`#${id} canvas`, (c) => [c.width, c.height]);
    assert.ok(size[0] > 100 && size[1] > 100, `${id} has a drawn canvas`);
  }
  const n = Number((await page.textContent('#kpi-findings')).replace(/,/g, ''));
  assert.ok(n > 0, 'the dashboard counts findings');
  await shot(page, 'dashboard');
});

await test('a finding is reviewed: first review by the auditor, second by the reviewer', async (page) => {
  await login(page, 'auditor', 'auditor@Medfund1');
  await page.goto(BASE + '/#/reviews');
  await page.selectOption('#review-state', 'pending');
  await page.click('text=查询');
  await page.waitForSelector('table tbody tr.click');
  await shot(page, 'reviews');
  await page.click('table tbody tr.click');
  await page.waitForSelector('#evidence');
  assert.ok((await page.textContent('#evidence')).length > 5, 'evidence sentence shown');
  const url = page.url();
  await page.fill('#review-note', '核对明细，疑点成立');
  await page.click('#act-first-confirm');
  await page.waitForFunction(() => document.querySelector('#review-state-tag')?.textContent.includes('待复审'));
  await shot(page, 'review');
  // The first reviewer may not do the second review (here: the auditor's role has no 复审).
  await page.evaluate(() => { document.querySelector('#toast').hidden = true; });
  await page.click('#act-second-agree');
  await page.waitForFunction(() => !document.querySelector('#toast').hidden);
  assert.match(await page.textContent('#toast'), /无权限|另一人|forbidden|separation/);
  await login(page, 'reviewer', 'reviewer@Medfund1');
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForSelector('#act-second-agree, #page-error');
  assert.equal(await page.$('#page-error'), null, await page.textContent('main'));
  await page.fill('#review-note', '同意初审意见');
  await page.click('#act-second-agree');
  await page.waitForFunction(() => document.querySelector('#review-state-tag')?.textContent.includes('已告知'));
});

await test('a case is opened and its page shows the timeline', async (page) => {
  await login(page, 'auditor', 'auditor@Medfund1');
  await page.goto(BASE + '/#/cases');
  await page.click('summary');
  await page.fill('#case-title', '浏览器测试：串换项目线索');
  await page.fill('#case-summary', '投诉线索转立案');
  await page.click('#case-open');
  await page.waitForSelector('#case-title-h');
  assert.match(await page.textContent('#case-title-h'), /串换项目线索/);
  await shot(page, 'case');
});

await test('institution page draws indicators against baseline and peers', async (page) => {
  await login(page, 'chief', 'chief@Medfund1');
  await page.goto(BASE + '/#/institutions');
  await page.waitForSelector('table tbody tr.click');
  await page.click('table tbody tr.click');
  await page.waitForSelector('#chart-avg_cost_opt canvas');
  await shot(page, 'institution');
});

await test('a settlement run is read in full, submitted by one person and approved by another', async (page) => {
  await login(page, 'chief', 'chief@Medfund1');
  await page.goto(BASE + '/#/settlements');
  await page.waitForSelector('a.settle-run');
  await page.click('tr:has(td:text-is("budget")) a.settle-run');
  await page.waitForSelector('#settle-status');
  assert.equal(await page.getAttribute('#settle-status', 'data-status'), 'draft');
  assert.equal(await page.textContent('#settle-status'), '草稿');
  // The lines of every institution, and the demo's assessment from the indicators.
  const rows = await page.$$eval('table', (ts) => ts.map((t) => t.querySelectorAll('tbody tr').length));
  assert.ok(rows[0] > 0, 'institution lines are listed');
  assert.ok(rows.length >= 3, 'lines, assessments and history tables');
  assert.match(await page.textContent('main'), /考评结果（由监测指标得出）/);
  await shot(page, 'settlement');
  const url = page.url();
  await page.click('text=提交审批');
  await page.waitForFunction(() => document.querySelector('#settle-status')?.dataset.status === 'submitted');
  // The submitter may not approve; the leader does.
  await login(page, 'leader', 'leader@Medfund1');
  await page.goto('about:blank');
  await page.goto(url);
  await page.waitForSelector('#settle-status');
  await page.click('text=批准');
  await page.waitForFunction(() => document.querySelector('#settle-status')?.dataset.status === 'approved');
  assert.match(await page.textContent('main'), /leader/);
});

await test('a hospital user sees only its own data', async (page) => {
  await login(page, 'hospital', 'hospital@Medfund1');
  const me = await page.evaluate(() => fetch('/api/v1/auth/me').then((r) => r.json()));
  const own = me.scope.value;
  await page.goto(BASE + '/#/institutions');
  await page.waitForSelector('table tbody tr');
  const codes = await page.$$eval('table tbody tr td:first-child', (tds) => tds.map((t) => t.textContent));
  assert.deepEqual(codes, [own], 'only its own institution is listed');
  const other = await page.evaluate(() => fetch('/api/v1/findings?limit=1000').then((r) => r.json()));
  assert.ok(other.items.every((f) => f.finding.fixmedins_code === own), 'findings list holds only its own');
  // Another hospital's page is not found, and the API refuses another institution's filter.
  const res = await page.evaluate(() => fetch('/api/v1/institutions/H99999999999').then((r) => r.status));
  assert.equal(res, 404);
  const all = await page.evaluate(() => fetch('/api/v1/institutions').then((r) => r.json()));
  assert.equal(all.items.length, 1);
  await page.goto(BASE + '/#/institution/H32010400002');
  await page.waitForSelector('#page-error');
  assert.match(await page.textContent('#page-error'), /未找到|not found/);
  await shot(page, 'hospital-scope');
});

await ctx.close();
fs.rmSync(userDataDir, { recursive: true, force: true });
if (errors.length) {
  console.log('page errors:\n  ' + errors.join('\n  '));
  failures += errors.length;
}
if (failures) {
  console.log(`${failures} browser test(s) failed`);
  process.exit(1);
}
console.log('all browser tests passed');
