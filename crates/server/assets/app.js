// medfund web UI: a small single-page app over /api/v1 (no build step; embedded in the binary).
'use strict';

const S = { me: null, csrf: '', lang: localStorage.getItem('medfund-lang') || 'zh', charts: [] };
const $ = (sel) => document.querySelector(sel);
const T = (zh, en) => (S.lang === 'en' ? en : zh);

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'html') el.innerHTML = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const k of kids.flat()) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

function toast(msg) {
  const t = $('#toast');
  t.textContent = msg;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), 5000);
}

async function api(method, path, body) {
  const opts = { method, credentials: 'same-origin', headers: {} };
  if (method !== 'GET') opts.headers['X-CSRF-Token'] = S.csrf;
  if (body instanceof FormData) opts.body = body;
  else if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  const r = await fetch('/api/v1' + path, opts);
  const j = await r.json().catch(() => ({}));
  if (r.status === 401 && path !== '/auth/login') {
    S.me = null;
    location.hash = '#/login';
    throw new Error(T('请先登录', 'log in first'));
  }
  if (!r.ok) throw new Error((S.lang === 'en' ? j.message_en : j.message) || r.statusText);
  return j;
}

const yuan = (v) => (v === null || v === undefined || v === '' ? '' : Number(v).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
const pct = (v) => (v === null || v === undefined ? '' : (v * 100).toFixed(1) + '%');
const num = (v, d = 2) => (v === null || v === undefined ? '' : Number(v).toFixed(d));

function table(cols, rows, onclick) {
  return h('table', {},
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { class: c.num ? 'num' : null }, c.t)))),
    h('tbody', {}, rows.map((r) => h('tr', { class: onclick ? 'click' : null, onclick: onclick ? () => onclick(r) : null },
      cols.map((c) => h('td', { class: c.num ? 'num' : null }, c.f(r)))))));
}

function exportBtn(name) {
  return h('a', { href: '/api/v1/export/' + name, download: 'medfund-' + name + '.xlsx' }, h('button', { class: 'secondary' }, T('导出 Excel', 'Export Excel')));
}

function chart(el, option) {
  const c = echarts.init(el);
  c.setOption(option);
  S.charts.push(c);
  return c;
}

function categoryZh(code) {
  const m = {
    gender_limit: '限性别', age_limit: '限年龄', hosp_level_limit: '限医疗机构级别', med_type_limit: '限就医方式',
    indication_limit: '限适应症', over_price: '超限定单价', over_frequency: '限定频次', duplicate_charge: '重复收费',
    exclusive_items: '互斥项目', split_charge: '分解收费', bed_days_excess: '床日超住院天数', split_admission: '分解住院',
    phantom_bed: '挂床住院', concurrent_visit: '住院期间他院就诊', doctor_shopping: '多处开药', card_misuse: '冒名就医/套刷',
    inventory_mismatch: '进销存异常', trace_code_reuse: '追溯码重复', rx_missing: '无处方/超处方', suspended_pract: '暂停资格人员',
    provider_outlier: '统计指标异常', upcoding: '高套分组', insurance_type_limit: '限工伤/生育保险', course_limit: '限支付疗程',
    cycle_frequency: '周期超频次', secondary_surgery_discount: '手术未折价',
  };
  return S.lang === 'en' ? code : (m[code] || code);
}

const STATE_ZH = {
  pending: ['待初审', 'pending'], first_reviewed: ['待复审', 'first reviewed'], dismissed: ['已排除', 'dismissed'],
  notified: ['已告知待申诉', 'notified'], appealed: ['已申诉', 'appealed'], accepted: ['机构认可', 'accepted'],
  investigating: ['调查核实中', 'investigating'], decided: ['已处理', 'decided'],
};
const stateName = (s) => (STATE_ZH[s] ? T(STATE_ZH[s][0], STATE_ZH[s][1]) : s);

// ------------------------------------------------------------------ routing

const PAGES = [];
function page(pattern, title, fn, who) { PAGES.push({ pattern, title, fn, who }); }

function navItems() {
  if (!S.me) return [];
  const bureau = S.me.bureau;
  const items = [['#/dashboard', T('总览', 'Dashboard')], ['#/reviews', T('疑点审核', 'Reviews')]];
  if (bureau || (S.me.scope && S.me.scope.kind === 'institution')) items.push(['#/findings', T('疑点明细', 'Findings')], ['#/institutions', T('定点机构', 'Institutions')]);
  items.push(['#/cases', T('案件', 'Cases')]);
  if (bureau) items.push(['#/complaints', T('投诉举报', 'Complaints')], ['#/settlements', T('支付结算', 'Settlements')], ['#/loads', T('数据加载', 'Loads')]);
  return items;
}

function renderChrome() {
  document.querySelectorAll('[data-zh]').forEach((e) => (e.textContent = T(e.dataset.zh, e.dataset.en)));
  $('#lang').textContent = S.lang === 'en' ? '中文' : 'EN';
  const nav = $('#nav');
  nav.innerHTML = '';
  for (const [href, label] of navItems()) nav.append(h('a', { href, class: location.hash.startsWith(href) ? 'active' : null }, label));
  $('#who').textContent = S.me ? `${S.me.username}（${(S.me.role_names || []).join('、')}）` : '';
  $('#logout').hidden = !S.me;
}

async function route() {
  S.charts.forEach((c) => c.dispose());
  S.charts = [];
  const hash = location.hash || '#/dashboard';
  if (!S.me && hash !== '#/login') {
    try {
      const me = await api('GET', '/auth/me');
      S.me = me;
      S.csrf = me.csrf;
    } catch (e) {
      location.hash = '#/login';
      return;
    }
  }
  renderChrome();
  const main = $('#main');
  for (const p of PAGES) {
    const m = hash.match(p.pattern);
    if (m) {
      main.innerHTML = '';
      try {
        await p.fn(main, ...m.slice(1).map(decodeURIComponent));
        // Cards added after a chart change the grid's columns: size every chart to its final box.
        S.charts.forEach((c) => c.resize());
      } catch (e) {
        main.append(h('div', { class: 'card error', id: 'page-error' }, e.message));
      }
      return;
    }
  }
  location.hash = '#/dashboard';
}

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => S.charts.forEach((c) => c.resize()));
$('#lang').addEventListener('click', () => {
  S.lang = S.lang === 'en' ? 'zh' : 'en';
  localStorage.setItem('medfund-lang', S.lang);
  route();
});
$('#logout').addEventListener('click', async () => {
  await api('POST', '/auth/logout').catch(() => {});
  S.me = null;
  location.hash = '#/login';
});

// ------------------------------------------------------------------ pages

page(/^#\/login$/, '登录', async (main) => {
  const err = h('div', { class: 'error', id: 'login-error' });
  const user = h('input', { id: 'login-user', autocomplete: 'username' });
  const pass = h('input', { id: 'login-pass', type: 'password', autocomplete: 'current-password' });
  const submit = async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    try {
      const me = await api('POST', '/auth/login', { username: user.value, password: pass.value });
      S.me = me;
      S.csrf = me.csrf;
      location.hash = '#/dashboard';
    } catch (e) {
      err.textContent = e.message;
    }
  };
  main.append(h('form', { class: 'card login', onsubmit: submit },
    h('h1', {}, T('登录医保基金智能监管平台', 'Log in to medfund')),
    h('label', { for: 'login-user' }, T('用户名', 'User name')), user,
    h('label', { for: 'login-pass' }, T('密码', 'Password')), pass,
    h('div', { style: 'margin-top:14px' }, h('button', { id: 'login-btn', type: 'submit' }, T('登录', 'Log in'))), err,
    h('p', { class: 'muted' }, T('演示账号见 medfund demo 的输出（如 auditor / auditor@Medfund1）', 'Demo accounts are printed by medfund demo (e.g. auditor / auditor@Medfund1)'))));
  user.focus();
});

page(/^#\/dashboard$/, '总览', async (main) => {
  const d = await api('GET', '/dashboard');
  main.append(h('h1', {}, T('总览', 'Dashboard'), ' ', h('span', { class: 'muted' }, d.month ? `${d.month}` : T('暂无数据', 'no data'))));
  const total = d.findings_by_category.reduce((a, x) => a + x.count, 0);
  const amount = d.findings_by_category.reduce((a, x) => a + Number(x.amount), 0);
  const kpis = h('div', { class: 'kpis' },
    h('div', { class: 'kpi' }, h('div', { class: 'v', id: 'kpi-findings' }, total.toLocaleString()), h('div', { class: 'l' }, T('疑点数', 'findings'))),
    h('div', { class: 'kpi' }, h('div', { class: 'v' }, yuan(amount)), h('div', { class: 'l' }, T('疑点金额（元）', 'suspect amount (yuan)'))));
  if (d.summary) {
    kpis.append(
      h('div', { class: 'kpi' }, h('div', { class: 'v' }, yuan(d.summary.fund_spending)), h('div', { class: 'l' }, T('本月统筹基金支出（元）', 'fund spending this month'))),
      h('div', { class: 'kpi' }, h('div', { class: 'v' }, Number(d.summary.visits).toLocaleString()), h('div', { class: 'l' }, T('本月就诊人次', 'visits this month'))));
  }
  main.append(kpis);
  const grid = h('div', { class: 'grid' });
  main.append(grid);
  const card = (id, title) => {
    const el = h('div', { class: 'chart', id });
    grid.append(h('div', { class: 'card' }, h('h2', {}, title), el));
    return el;
  };
  if (d.fund && d.fund.funds) {
    const funds = d.fund.funds.filter((f) => f.latest);
    chart(card('chart-payable', T('基金可支付月数', 'Months payable')), {
      tooltip: {}, grid: { left: 50, right: 20, top: 30, bottom: 30 },
      xAxis: { type: 'category', data: funds.map((f) => f.insutype_zh || f.insutype) },
      yAxis: { type: 'value', name: T('月', 'months') },
      series: [{ type: 'bar', data: funds.map((f) => Number(num(f.latest.months_payable, 1))), label: { show: true, position: 'top' },
        markLine: { data: [{ yAxis: 6, name: T('风险线', 'risk') }, { yAxis: 15, name: T('结余过多', 'excess') }] } }],
    });
  }
  if (d.trend && d.trend.length) {
    chart(card('chart-trend', T('月度统筹基金支出趋势（元）', 'Monthly fund spending (yuan)')), {
      tooltip: { trigger: 'axis' }, legend: { data: [T('统筹基金', 'fund'), T('医疗总费用', 'total cost')] }, grid: { left: 80, right: 20, top: 40, bottom: 30 },
      xAxis: { type: 'category', data: d.trend.map((x) => x.month) }, yAxis: { type: 'value' },
      series: [{ name: T('统筹基金', 'fund'), type: 'line', smooth: true, data: d.trend.map((x) => Number(x.fund)) },
        { name: T('医疗总费用', 'total cost'), type: 'line', smooth: true, data: d.trend.map((x) => Number(x.total)) }],
    });
  }
  const cats = [...d.findings_by_category].reverse();
  chart(card('chart-category', T('疑点按规则类别', 'Findings by category')), {
    tooltip: {}, grid: { left: 130, right: 30, top: 10, bottom: 30 },
    xAxis: { type: 'value' }, yAxis: { type: 'category', data: cats.map((x) => categoryZh(x.category)) },
    series: [{ type: 'bar', data: cats.map((x) => x.count), itemStyle: { color: '#1d4f91' } }],
  });
  const ins = d.findings_by_institution;
  chart(card('chart-institution', T('疑点金额按机构（元）', 'Suspect amount by institution')), {
    tooltip: {}, grid: { left: 60, right: 20, top: 10, bottom: 90 },
    xAxis: { type: 'category', data: ins.map((x) => x.name || x.fixmedins_code), axisLabel: { rotate: 40 } }, yAxis: { type: 'value' },
    series: [{ type: 'bar', data: ins.map((x) => Number(x.amount)), itemStyle: { color: '#b9770e' } }],
  });
  if (d.budgets && d.budgets.length) {
    const b = d.budgets.slice(0, 20);
    chart(card('chart-budget', T('总额预算使用进度', 'Budget use')), {
      tooltip: { valueFormatter: (v) => v + '%' }, grid: { left: 60, right: 20, top: 20, bottom: 90 },
      xAxis: { type: 'category', data: b.map((x) => x.fixmedins_code), axisLabel: { rotate: 40 } }, yAxis: { type: 'value', max: 120 },
      series: [{ type: 'bar', data: b.map((x) => Number(x.cap) > 0 ? +(100 * Number(x.spent) / Number(x.cap)).toFixed(1) : 0),
        markLine: { data: [{ yAxis: Math.round(100 * (b[0].elapsed_months || 12) / 12), name: T('时间进度', 'calendar') }] } }],
    });
  }
  if (d.warnings && d.warnings.length) {
    main.append(h('h2', {}, T('预警', 'Warnings')), table([
      { t: T('机构', 'Institution'), f: (w) => w.fixmedins_name || w.fixmedins_code },
      { t: T('类型', 'Kind'), f: (w) => w.kind_zh },
      { t: T('说明', 'Message'), f: (w) => w.message },
    ], d.warnings.slice(0, 30)));
  }
});

page(/^#\/reviews$/, '疑点审核', async (main) => {
  const state = h('select', { id: 'review-state' }, h('option', { value: '' }, T('全部状态', 'all states')),
    Object.keys(STATE_ZH).map((s) => h('option', { value: s }, stateName(s))));
  const cat = h('input', { placeholder: T('类别代码，如 over_price', 'category code'), id: 'review-cat' });
  const out = h('div');
  const load = async () => {
    const q = new URLSearchParams({ state: state.value, category: cat.value });
    const r = await api('GET', '/reviews?' + q);
    out.innerHTML = '';
    out.append(h('p', { class: 'muted' }, T(`共 ${r.total} 条`, `${r.total} reviews`)), table([
      { t: 'ID', f: (x) => x.id },
      { t: T('类别', 'Category'), f: (x) => categoryZh(x.category) },
      { t: T('机构', 'Institution'), f: (x) => x.fixmedins_code || '' },
      { t: T('参保人', 'Person'), f: (x) => x.psn_no || '' },
      { t: T('金额（元）', 'Amount'), num: true, f: (x) => yuan(x.amount) },
      { t: T('状态', 'State'), f: (x) => h('span', { class: 'tag' }, stateName(x.state)) },
      { t: T('办理时限', 'Due'), f: (x) => x.due_at || '' },
      { t: T('疑点说明', 'Evidence'), f: (x) => (x.finding && x.finding.evidence ? x.finding.evidence.text : '') },
    ], r.items, (x) => (location.hash = '#/review/' + x.id)));
  };
  const actions = h('div', { class: 'filters' }, state, cat, h('button', { onclick: load }, T('查询', 'Search')), exportBtn('reviews'));
  if (S.me.bureau) {
    actions.append(h('button', { class: 'secondary', id: 'register-btn', onclick: async () => {
      const r = await api('POST', '/findings/register?' + new URLSearchParams({ category: cat.value, limit: 50 }));
      toast(T(`已登记 ${r.registered} 条疑点进入审核`, `${r.registered} findings registered for review`));
      load();
    } }, T('登记新疑点进入审核', 'Register new findings')));
  }
  main.append(h('h1', {}, T('疑点审核（初审 → 复审 → 申诉 → 调查 → 处理）', 'Review of suspects')), actions, out);
  await load();
});

page(/^#\/review\/(\d+)$/, '审核详情', async (main, id) => {
  const d = await api('GET', '/reviews/' + id);
  const r = d.review;
  const f = r.finding || {};
  main.append(h('h1', {}, T('疑点审核 #', 'Review #') + r.id, ' ', h('span', { class: 'tag', id: 'review-state-tag' }, stateName(r.state))),
    h('div', { class: 'card' },
      h('div', {}, h('b', {}, categoryZh(r.category)), ' · ', f.rule_id, ' ', f.nhsa_rule_code || '', ' · ', T('金额 ', 'amount '), yuan(r.amount), T(' 元', ' yuan')),
      h('div', { class: 'evidence', id: 'evidence' }, (f.evidence && f.evidence.text) || ''),
      h('div', { class: 'muted' }, `${T('机构', 'institution')} ${r.fixmedins_code || ''} · ${T('参保人', 'person')} ${r.psn_no || ''} · ${T('就诊', 'visit')} ${r.mdtrt_id || ''} · ${T('人员', 'staff')} ${r.pract_code || ''}`),
      h('details', {}, h('summary', {}, T('机读证据', 'machine-readable evidence')), h('pre', {}, JSON.stringify(f.evidence && f.evidence.details, null, 2)))));
  const note = h('textarea', { id: 'review-note', placeholder: T('意见 / 说明', 'note') });
  const act = async (path, body) => {
    try {
      await api('POST', `/reviews/${id}/${path}`, body);
      toast(T('已提交', 'done'));
      route();
    } catch (e) {
      toast(e.message);
    }
  };
  const next = d.next_states || [];
  const btns = h('div', { class: 'actions' });
  if (next.includes('first_reviewed') || next.includes('dismissed') && r.state === 'pending') {
    btns.append(h('button', { id: 'act-first-confirm', onclick: () => act('first', { opinion: 'confirm', note: note.value }) }, T('初审：疑点成立', 'First review: confirm')),
      h('button', { class: 'secondary', onclick: () => act('first', { opinion: 'dismiss', note: note.value }) }, T('初审：疑点不成立', 'First review: dismiss')));
  }
  if (r.state === 'first_reviewed') {
    btns.append(h('button', { id: 'act-second-agree', onclick: () => act('second', { agree: true, note: note.value }) }, T('复审：同意初审意见', 'Second review: agree')),
      h('button', { class: 'secondary', onclick: () => act('second', { agree: false, note: note.value }) }, T('复审：退回初审', 'Second review: send back')));
  }
  if (r.state === 'notified') {
    btns.append(h('button', { id: 'act-appeal', onclick: () => act('appeal', { text: note.value }) }, T('提出申诉', 'Appeal')),
      h('button', { class: 'secondary', onclick: () => act('accept', { note: note.value }) }, T('认可疑点', 'Accept')));
  }
  if (r.state === 'appealed' || r.state === 'accepted') {
    btns.append(h('button', { id: 'act-investigate', onclick: () => act('investigate', { note: note.value }) }, T('开始调查核实', 'Investigate')));
  }
  if (r.state === 'investigating' || r.state === 'accepted') {
    const amt = h('input', { id: 'confirmed-amount', value: r.amount || '0.00', size: 10 });
    btns.append(T('认定金额', 'confirmed amount'), amt,
      h('button', { id: 'act-decide', onclick: () => act('decide', { verdict: 'confirmed', confirmed_amount: amt.value, note: note.value }) }, T('认定违规', 'Confirm violation')),
      h('button', { class: 'secondary', onclick: () => act('decide', { verdict: 'cleared', note: note.value }) }, T('不予认定', 'Clear')));
  }
  if (S.me.bureau && (r.state === 'decided' || r.state === 'investigating')) {
    btns.append(h('button', { class: 'secondary', id: 'act-open-case', onclick: async () => {
      try {
        const c = await api('POST', '/cases', { title: `${categoryZh(r.category)} ${r.fixmedins_code || ''}`, summary: (f.evidence && f.evidence.text) || '', source: 'review', source_ref: String(r.id), fixmedins_code: r.fixmedins_code });
        location.hash = '#/case/' + c.id;
      } catch (e) { toast(e.message); }
    } }, T('立案', 'Open a case')));
  }
  main.append(h('h2', {}, T('办理', 'Actions')), note, btns,
    h('h2', {}, T('办理记录', 'Timeline')),
    h('ul', { class: 'timeline' }, (d.events || []).map((e) => h('li', {}, `${e.at} · ${e.actor} · ${stateName(e.from || '')} → ${stateName(e.to || '')} ${e.note || ''}`))));
});

page(/^#\/findings$/, '疑点明细', async (main) => {
  const cat = h('input', { placeholder: T('类别代码', 'category'), id: 'f-cat' });
  const inst = h('input', { placeholder: T('机构编码', 'institution code'), id: 'f-inst' });
  const month = h('input', { placeholder: 'YYYY-MM', id: 'f-month', size: 8 });
  const out = h('div');
  let offset = 0;
  const load = async () => {
    const q = new URLSearchParams({ category: cat.value, fixmedins_code: inst.value, month: month.value, limit: 50, offset });
    const r = await api('GET', '/findings?' + q);
    out.innerHTML = '';
    out.append(h('p', { class: 'muted', id: 'findings-total' }, T(`共 ${r.total} 条`, `${r.total} findings`)), table([
      { t: T('类别', 'Category'), f: (x) => categoryZh(x.finding.category) },
      { t: T('结果', 'Result'), f: (x) => h('span', { class: 'tag ' + (x.finding.result === 'violation' ? 'red' : 'amber') }, x.finding.result === 'violation' ? T('明确违规', 'violation') : T('可疑', 'suspect')) },
      { t: T('机构', 'Institution'), f: (x) => x.finding.fixmedins_code || '' },
      { t: T('参保人', 'Person'), f: (x) => x.finding.psn_no || '' },
      { t: T('金额（元）', 'Amount'), num: true, f: (x) => yuan(x.finding.amount) },
      { t: T('说明', 'Evidence'), f: (x) => x.finding.evidence.text },
    ], r.items, (x) => (location.hash = '#/finding/' + x.finding.finding_id)),
    h('div', { class: 'actions' },
      h('button', { class: 'secondary', onclick: () => { offset = Math.max(0, offset - 50); load(); } }, T('上一页', 'Previous')),
      h('button', { class: 'secondary', onclick: () => { offset += 50; load(); } }, T('下一页', 'Next'))));
  };
  main.append(h('h1', {}, T('疑点明细（审核引擎与模型结果）', 'Findings')),
    h('div', { class: 'filters' }, cat, inst, month, h('button', { onclick: () => { offset = 0; load(); } }, T('查询', 'Search')), exportBtn('findings')), out);
  await load();
});

page(/^#\/finding\/([0-9a-f]+)$/, '疑点', async (main, id) => {
  const d = await api('GET', '/findings/' + id);
  const f = d.finding.finding;
  main.append(h('h1', {}, categoryZh(f.category), ' ', h('span', { class: 'tag' }, f.result)),
    h('div', { class: 'card' },
      h('div', { class: 'evidence' }, f.evidence.text),
      table([{ t: T('字段', 'field'), f: (r) => r[0] }, { t: T('值', 'value'), f: (r) => r[1] }],
        [['finding_id', f.finding_id], ['rule_id', f.rule_id], ['nhsa_rule_code', f.nhsa_rule_code || ''], ['severity', f.severity], ['level', f.level],
          ['setl_id', f.setl_id || ''], ['mdtrt_id', f.mdtrt_id || ''], ['feedetl_sn', f.feedetl_sn || ''], ['psn_no', f.psn_no || ''],
          ['fixmedins_code', f.fixmedins_code || ''], ['pract_code', f.pract_code || ''], ['med_list_codg', f.med_list_codg || ''], ['amount', yuan(f.amount)]]),
      h('pre', {}, JSON.stringify(f.evidence.details, null, 2))),
    d.review ? h('p', {}, h('a', { href: '#/review/' + d.review.id }, T('查看审核 #', 'Open review #') + d.review.id)) : h('p', { class: 'muted' }, T('尚未登记审核', 'not under review')),
    f.psn_no && S.me.bureau ? h('p', {}, h('a', { href: '#/person/' + f.psn_no }, T('参保人画像', 'Person page'))) : '',
    f.pract_code ? h('p', {}, h('a', { href: '#/practitioner/' + f.pract_code }, T('医务人员一人一档', 'Personnel file'))) : '');
});

page(/^#\/institutions$/, '机构', async (main) => {
  const r = await api('GET', '/institutions');
  main.append(h('h1', {}, T('定点医药机构', 'Institutions'), ' ', h('span', { class: 'muted' }, r.month || '')),
    h('div', { class: 'filters' }, exportBtn('institutions')),
    table([
      { t: T('编码', 'Code'), f: (x) => x.institution.fixmedins_code },
      { t: T('名称', 'Name'), f: (x) => x.institution.fixmedins_name },
      { t: T('类型', 'Type'), f: (x) => (x.institution.fixmedins_type === '2' ? T('药店', 'pharmacy') : T('医疗机构', 'medical')) },
      { t: T('级别', 'Level'), f: (x) => x.institution.hosp_lv || '' },
      { t: T('本月就诊', 'Visits'), num: true, f: (x) => (x.stats ? x.stats.visits : '') },
      { t: T('本月统筹支出（元）', 'Fund spending'), num: true, f: (x) => (x.stats ? yuan(x.stats.fund_spending) : '') },
    ], r.items, (x) => (location.hash = '#/institution/' + x.institution.fixmedins_code)));
});

page(/^#\/institution\/([A-Z0-9]+)$/, '机构画像', async (main, code) => {
  const d = await api('GET', '/institutions/' + code);
  main.append(h('h1', {}, d.institution.fixmedins_name, ' ', h('span', { class: 'muted' }, code)));
  const grid = h('div', { class: 'grid' });
  main.append(grid);
  const pick = (s, key) => s.indicators && s.indicators.find((i) => i.indicator === key);
  for (const [key, title] of [['avg_cost_opt', T('次均门诊费用（元）', 'Avg outpatient cost')], ['avg_cost_ipt', T('次均住院费用（元）', 'Avg inpatient cost')], ['drug_share', T('药品收入占比', 'Drug share')], ['lines_per_visit', T('次均明细行数', 'Lines per visit')]]) {
    const el = h('div', { class: 'chart', id: 'chart-' + key });
    grid.append(h('div', { class: 'card' }, h('h2', {}, title), el));
    const months = d.series.map((s) => s.month);
    const scale = key.startsWith('avg_cost') ? 100 : 1;
    const val = (s, f) => { const c = pick(s, key); return c && c[f] !== null && c[f] !== undefined ? +(c[f] / scale).toFixed(3) : null; };
    chart(el, {
      tooltip: { trigger: 'axis' }, legend: { data: [T('本机构', 'this'), T('去年同期', 'baseline'), T('同级同类中位数', 'peer median')] },
      grid: { left: 60, right: 20, top: 40, bottom: 30 }, xAxis: { type: 'category', data: months }, yAxis: { type: 'value' },
      series: [{ name: T('本机构', 'this'), type: 'line', data: d.series.map((s) => val(s, 'value')) },
        { name: T('去年同期', 'baseline'), type: 'line', lineStyle: { type: 'dashed' }, data: d.series.map((s) => val(s, 'baseline')) },
        { name: T('同级同类中位数', 'peer median'), type: 'line', lineStyle: { type: 'dotted' }, data: d.series.map((s) => val(s, 'peer_median')) }],
    });
  }
  main.append(h('h2', {}, T('疑点', 'Findings')), table([
    { t: T('类别', 'Category'), f: (x) => categoryZh(x.category) }, { t: T('数量', 'Count'), num: true, f: (x) => x.count }, { t: T('金额（元）', 'Amount'), num: true, f: (x) => yuan(x.amount) },
  ], d.findings));
});

page(/^#\/person\/(.+)$/, '参保人', async (main, psn) => {
  const d = await api('GET', '/persons/' + psn);
  const p = d.person || {};
  main.append(h('h1', {}, T('参保人 ', 'Person '), psn),
    h('p', {}, `${T('性别', 'gender')} ${p.gend === '1' ? T('男', 'male') : p.gend === '2' ? T('女', 'female') : ''} · ${T('出生', 'born')} ${p.brdy || ''} · ${T('险种', 'insurance')} ${p.insutype || ''} · ${T('就诊', 'visits')} ${d.visit_count} · ${T('费用合计', 'total')} ${yuan(d.fee_total)}`),
    h('h2', {}, T('疑点', 'Findings')), table([
      { t: T('类别', 'Category'), f: (x) => categoryZh(x.finding.category) }, { t: T('说明', 'Evidence'), f: (x) => x.finding.evidence.text }, { t: T('金额', 'Amount'), num: true, f: (x) => yuan(x.finding.amount) },
    ], d.findings, (x) => (location.hash = '#/finding/' + x.finding.finding_id)),
    h('h2', {}, T('就诊轨迹', 'Visits')), table([
      { t: T('就诊', 'Visit'), f: (x) => x.mdtrt_id }, { t: T('机构', 'Institution'), f: (x) => x.fixmedins_code }, { t: T('类型', 'Type'), f: (x) => x.med_type },
      { t: T('开始', 'Begin'), f: (x) => x.begntime }, { t: T('结束', 'End'), f: (x) => x.endtime || '' }, { t: T('诊断', 'Diagnosis'), f: (x) => x.diag_code },
    ], d.visits));
});

page(/^#\/practitioner\/(.+)$/, '一人一档', async (main, code) => {
  const d = await api('GET', '/practitioners/' + code);
  main.append(h('h1', {}, T('医务人员一人一档 ', 'Personnel file '), code),
    h('div', { class: 'kpis' },
      h('div', { class: 'kpi' }, h('div', { class: 'v' }, JSON.stringify(d.status_today).replace(/"/g, '')), h('div', { class: 'l' }, T('今日资格状态', 'status today'))),
      h('div', { class: 'kpi' }, h('div', { class: 'v' }, d.points_this_year), h('div', { class: 'l' }, T('本年累计记分', 'points this year')))),
    h('h2', {}, T('记分记录', 'Points')), table([
      { t: 'ID', f: (x) => x.id }, { t: T('分值', 'Points'), num: true, f: (x) => x.points }, { t: T('原因', 'Cause'), f: (x) => x.cause }, { t: T('状态', 'State'), f: (x) => x.state }, { t: T('日期', 'Date'), f: (x) => x.event_date || x.proposed_at || '' },
    ], d.entries || []),
    h('h2', {}, T('暂停/终止措施', 'Measures')), h('pre', {}, JSON.stringify({ measures: d.measures, imported: d.imported_measures, repairs: d.repairs, ban_until: d.ban_until }, null, 2)));
});

page(/^#\/cases$/, '案件', async (main) => {
  const r = await api('GET', '/cases');
  main.append(h('h1', {}, T('案件', 'Cases')), h('div', { class: 'filters' }, exportBtn('cases')));
  if (S.me.bureau) {
    const title = h('input', { id: 'case-title', placeholder: T('案件名称', 'title'), size: 40 });
    const inst = h('input', { id: 'case-inst', placeholder: T('机构编码', 'institution') });
    const summary = h('textarea', { id: 'case-summary', placeholder: T('案情摘要', 'summary') });
    main.append(h('details', { class: 'card' }, h('summary', {}, T('立案', 'Open a case')), title, ' ', inst, summary,
      h('button', { id: 'case-open', onclick: async () => {
        try {
          const c = await api('POST', '/cases', { title: title.value, summary: summary.value, fixmedins_code: inst.value || null, source: 'referral' });
          location.hash = '#/case/' + c.id;
        } catch (e) { toast(e.message); }
      } }, T('提交立案', 'Open'))));
  }
  main.append(table([
    { t: T('案号', 'No.'), f: (x) => x.case_no }, { t: T('名称', 'Title'), f: (x) => x.title }, { t: T('机构', 'Institution'), f: (x) => x.fixmedins_code || '' },
    { t: T('状态', 'State'), f: (x) => h('span', { class: 'tag' }, x.state) }, { t: T('涉嫌金额', 'Suspect'), num: true, f: (x) => yuan(x.suspect_amount) },
    { t: T('认定金额', 'Confirmed'), num: true, f: (x) => yuan(x.confirmed_amount) }, { t: T('立案时间', 'Opened'), f: (x) => x.opened_at },
  ], r.items, (x) => (location.hash = '#/case/' + x.id)));
});

page(/^#\/case\/(\d+)$/, '案件详情', async (main, id) => {
  const d = await api('GET', '/cases/' + id);
  const c = d.detail.case;
  main.append(h('h1', { id: 'case-title-h' }, c.case_no, ' ', c.title, ' ', h('span', { class: 'tag' }, c.state)),
    h('div', { class: 'card' }, h('p', {}, c.summary), h('p', { class: 'muted' }, `${T('机构', 'institution')} ${c.fixmedins_code || ''} · ${T('来源', 'source')} ${c.source} ${c.source_ref || ''} · ${T('办理时限', 'due')} ${c.due_at || ''}`)),
    h('h2', {}, T('办理时间线', 'Timeline')), h('ul', { class: 'timeline' }, (d.detail.events || []).map((e) => h('li', {}, `${e.at} · ${e.actor} · ${e.from || ''} → ${e.to || ''} ${e.note || ''}`))),
    h('h2', {}, T('处理措施与追回', 'Sanctions and recovery')), table([
      { t: 'ID', f: (x) => x.id }, { t: T('措施', 'Kind'), f: (x) => x.kind }, { t: T('状态', 'State'), f: (x) => x.state },
      { t: T('金额（元）', 'Amount'), num: true, f: (x) => yuan(x.amount) }, { t: T('已到账', 'Paid'), num: true, f: (x) => yuan(x.paid) }, { t: T('到期', 'Due'), f: (x) => x.due_date || '' },
    ], (d.sanctions && d.sanctions.items) || []),
    h('h2', {}, T('证据材料', 'Evidence')), table([{ t: T('文件', 'File'), f: (x) => x.name || x.file_name || '' }, { t: 'SHA-256', f: (x) => x.sha256 || '' }], d.detail.documents || []));
});

page(/^#\/complaints$/, '投诉举报', async (main) => {
  const r = await api('GET', '/complaints');
  const target = h('input', { id: 'cp-target', placeholder: T('被举报对象', 'target') });
  const content = h('textarea', { id: 'cp-content', placeholder: T('举报内容', 'content') });
  const anon = h('input', { type: 'checkbox', id: 'cp-anon' });
  main.append(h('h1', {}, T('投诉举报', 'Complaints')), h('div', { class: 'filters' }, exportBtn('complaints')),
    h('details', { class: 'card' }, h('summary', {}, T('登记投诉举报', 'Register a complaint')), target, ' ', anon, T('匿名', 'anonymous'), content,
      h('button', { onclick: async () => {
        try { await api('POST', '/complaints', { anonymous: anon.checked, target: target.value, content: content.value, channel: 'online' }); toast(T('已登记', 'registered')); route(); } catch (e) { toast(e.message); }
      } }, T('提交', 'Submit'))),
    table([
      { t: T('编号', 'No.'), f: (x) => x.complaint_no }, { t: T('对象', 'Target'), f: (x) => x.target }, { t: T('状态', 'State'), f: (x) => x.state },
      { t: T('奖励（元）', 'Reward'), num: true, f: (x) => yuan(x.reward) }, { t: T('登记时间', 'Received'), f: (x) => x.received_at || x.created_at || '' },
    ], r.items || []));
});

page(/^#\/settlements$/, '结算', async (main) => {
  const r = await api('GET', '/settlements');
  const act = async (id, status) => {
    try { await api('POST', `/settlements/${id}/status`, { status }); toast(T('已更新', 'updated')); route(); } catch (e) { toast(e.message); }
  };
  main.append(h('h1', {}, T('支付结算（总额控制 / DRG / DIP）', 'Settlements')), h('div', { class: 'filters' }, exportBtn('settlements')),
    table([
      { t: 'ID', f: (x) => h('a', { href: '#/settlement/' + x.id, class: 'settle-run' }, '#' + x.id) }, { t: T('类型', 'Kind'), f: (x) => x.kind }, { t: T('年度', 'Year'), f: (x) => x.year },
      { t: T('机构数', 'Institutions'), num: true, f: (x) => x.institutions }, { t: T('应付合计（元）', 'Payable'), num: true, f: (x) => yuan(x.total_payable) },
      { t: T('状态', 'Status'), f: (x) => h('span', { class: 'tag' }, runStatusZh(x.status)) },
      { t: T('审批', 'Approval'), f: (x) => h('span', {},
        x.status === 'draft' ? h('button', { onclick: () => act(x.id, 'submitted') }, T('提交审批', 'Submit')) : '',
        x.status === 'submitted' ? [h('button', { onclick: () => act(x.id, 'approved') }, T('批准', 'Approve')), ' ', h('button', { class: 'secondary', onclick: () => act(x.id, 'rejected') }, T('退回', 'Reject'))] : '') },
    ], r.items || []));
});

const runStatusZh = (st) => ({ draft: T('草稿', 'draft'), submitted: T('待审批', 'submitted'), approved: T('已批准', 'approved'), rejected: T('已退回', 'rejected') }[st] || st);
const assessZh = (a) => ({ all: T('全部达标', 'all met'), some: T('部分达标', 'some met'), none: T('均未达标', 'none met') }[a] || a);

// One run, as the approver needs to see it before deciding.
page(/^#\/settlement\/(\d+)$/, '结算详情', async (main, id) => {
  const d = await api('GET', '/settlements/' + id);
  const r = d.run;
  const name = (c) => (d.names && d.names[c]) || '';
  const act = async (status) => {
    try { await api('POST', `/settlements/${id}/status`, { status }); toast(T('已更新', 'updated')); route(); } catch (e) { toast(e.message); }
  };
  const kindZh = { budget: T('总额控制年终结算', 'Total budget year-end'), drg: 'DRG', dip: 'DIP' }[r.kind] || r.kind;
  main.append(
    h('h1', {}, `${T('结算批次', 'Settlement run')} #${r.id} · ${kindZh} · ${r.year}`),
    h('p', {}, `${T('状态', 'Status')}: `, h('span', { class: 'tag', id: 'settle-status', 'data-status': r.status }, runStatusZh(r.status)), ` · ${T('机构数', 'Institutions')} ${r.institutions} · ${T('应付合计', 'Payable')} ${yuan(r.total_payable)} ${T('元', 'yuan')} · ${T('创建', 'Created')} ${r.created_by} ${r.created_at}`),
    h('div', { class: 'filters' },
      r.status === 'draft' ? h('button', { onclick: () => act('submitted') }, T('提交审批', 'Submit')) : '',
      r.status === 'submitted' ? [h('button', { onclick: () => act('approved') }, T('批准', 'Approve')), ' ', h('button', { class: 'secondary', onclick: () => act('rejected') }, T('退回', 'Reject'))] : ''),
  );
  const lines = d.lines || [];
  if (r.kind === 'budget') {
    main.append(h('h2', {}, T('机构结算明细', 'Institutions')), table([
      { t: T('机构', 'Institution'), f: (x) => `${x.fixmedins_code} ${name(x.fixmedins_code)}` },
      { t: T('年度总额', 'Cap'), num: true, f: (x) => yuan(x.cap) }, { t: T('基金支出', 'Spending'), num: true, f: (x) => yuan(x.actual) },
      { t: T('考评', 'Assessment'), f: (x) => assessZh(x.assessment) },
      { t: T('节约奖励', 'Reward'), num: true, f: (x) => yuan(x.reward) }, { t: T('超支', 'Overage'), num: true, f: (x) => yuan(x.overage) },
      { t: T('机构承担', 'Borne'), num: true, f: (x) => yuan(x.institution_bears) }, { t: T('应拨付', 'Payable'), num: true, f: (x) => yuan(x.payable) },
    ], lines));
  } else {
    main.append(h('h2', {}, T('机构结算明细', 'Institutions')), table([
      { t: T('机构', 'Institution'), f: (x) => `${x.fixmedins_code} ${name(x.fixmedins_code)}` },
      { t: T('病例数', 'Cases'), num: true, f: (x) => x.cases }, { t: T('点数', 'Points'), num: true, f: (x) => x.points },
      { t: T('应付', 'Payment'), num: true, f: (x) => yuan(x.payment) }, { t: T('已预付', 'Prepaid'), num: true, f: (x) => yuan(x.prepaid) },
      { t: T('清算差额', 'Balance'), num: true, f: (x) => yuan(x.balance) },
    ], lines));
  }
  const ia = d.indicator_assessments || [];
  if (ia.length) {
    const mark = (m) => (m === true ? T('达标', 'met') : m === false ? T('未达标', 'missed') : T('无法考评', 'n/a'));
    const val = (t, v) => (v === null || v === undefined ? '' : t.indicator.startsWith('avg_cost') ? yuan(v / 100) : pct(v));
    main.append(h('h2', {}, T('考评结果（由监测指标得出）', 'Assessment from the indicators')), table([
      { t: T('机构', 'Institution'), f: (x) => `${x.fixmedins_code} ${name(x.fixmedins_code)}` },
      { t: T('指标得出', 'From indicators'), f: (x) => (x.from_indicators ? assessZh(x.from_indicators) : T('无可考评指标', 'nothing assessable')) },
      { t: T('采用', 'Used'), f: (x) => assessZh(x.used) },
      { t: T('各项指标', 'Targets'), f: (x) => (x.targets || []).map((t) => `${t.name} ${val(t, t.value)}${t.growth !== null && t.growth !== undefined ? ' (' + T('同比', 'YoY') + ' ' + pct(t.growth) + ')' : ''} ${mark(t.met)}`).join('；') },
    ], ia));
  }
  main.append(h('h2', {}, T('审批记录', 'Approval history')), table([
    { t: T('时间', 'Time'), f: (x) => x.at }, { t: T('操作人', 'By'), f: (x) => x.actor },
    { t: T('变更', 'Change'), f: (x) => `${x.from ? runStatusZh(x.from) : ''} → ${runStatusZh(x.to)}` }, { t: T('意见', 'Reason'), f: (x) => x.reason || '' },
  ], d.history || []));
});

page(/^#\/loads$/, '数据加载', async (main) => {
  const r = await api('GET', '/loads');
  const input = h('input', { type: 'file', id: 'load-files', multiple: true, accept: '.csv,.parquet,.jsonl' });
  const status = h('div', { id: 'load-status' });
  const poll = async (id) => {
    const j = await api('GET', '/loads/' + id);
    status.innerHTML = '';
    const share = j.total ? j.done / j.total : 0;
    status.append(h('p', {}, `${T('状态', 'state')}: ${j.state} · ${j.stage} ${j.done}/${j.total}`), h('div', { class: 'bar' }, h('div', { style: `width:${Math.round(share * 100)}%` })));
    if (j.state === 'running') return setTimeout(() => poll(id), 500);
    if (j.error) status.append(h('div', { class: 'error' }, j.error));
    if (j.report) {
      status.append(table([
        { t: T('表', 'Table'), f: (t) => t.table }, { t: T('读取', 'Read'), num: true, f: (t) => t.read }, { t: T('入库', 'Loaded'), num: true, f: (t) => t.loaded },
        { t: T('重复跳过', 'Skipped'), num: true, f: (t) => t.skipped ?? t.duplicates ?? '' }, { t: T('隔离', 'Quarantined'), num: true, f: (t) => t.quarantined },
      ], j.report.tables || []));
    }
    if (j.quarantine && j.quarantine.length) {
      status.append(h('h2', {}, T('隔离记录', 'Quarantine')), table([
        { t: T('文件', 'File'), f: (q) => q.file }, { t: T('行', 'Line'), num: true, f: (q) => q.line }, { t: T('列', 'Column'), f: (q) => q.column || '' },
        { t: T('原因', 'Reason'), f: (q) => (S.lang === 'en' ? q.reason_en : q.reason_zh) },
      ], j.quarantine));
    }
  };
  main.append(h('h1', {}, T('数据加载', 'Load a batch')),
    h('div', { class: 'card' }, h('p', {}, T('选择一个批次的表文件（如 psn.csv、mdtrt.csv、fee.csv），字段使用国家接口名称。', 'Choose the table files of one batch (psn.csv, mdtrt.csv, fee.csv, …) with national field names.')),
      input, ' ', h('button', { id: 'load-btn', onclick: async () => {
        const fd = new FormData();
        for (const f of input.files) fd.append('file', f, f.name);
        try { const j = await api('POST', '/loads', fd); poll(j.id); } catch (e) { toast(e.message); }
      } }, T('上传并加载', 'Upload and load')), status),
    h('h2', {}, T('加载记录', 'History')), table([
      { t: 'ID', f: (x) => x.id }, { t: T('批次', 'Batch'), f: (x) => x.batch_dir || x.source || '' }, { t: T('开始', 'Started'), f: (x) => x.started_at || '' }, { t: T('状态', 'Status'), f: (x) => x.status || '' },
    ], r.runs || []));
});

route();
