// Drives the local query page in a real browser: Debian's chromium
// through playwright-core (no downloaded browser). Runs the presets, a
// time chart, a wrong query, the runs view down to one step's lines, and
// a cross-site request from another origin; saves a screenshot of each
// into the folder given, and prints what the page showed as JSON.
//   node page-check.js BASE_URL SCREENSHOT_DIR RUN_ID STEP_ID OTHER_ORIGIN OTHER_API
// OTHER_ORIGIN is a page of another site; OTHER_API is where it sends its
// request for the API (the test's recording proxy in front of it).
const { chromium } = require('playwright-core');

const [, , base, shots, runId, stepId, otherOrigin, otherAPI] = process.argv;

async function rows(page, selector) {
  return page.$$eval(`${selector} tbody tr`, (trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent)));
}

async function header(page, selector) {
  return page.$$eval(`${selector} thead th`, (ths) => ths.map((th) => th.firstChild.textContent));
}

// run clicks something that queries, and waits until the page shows the
// answer (or the error).
async function run(page, click) {
  await Promise.all([page.waitForResponse((r) => r.url().includes('/v1/apps/local/query')), click()]);
  await page.waitForFunction(() => {
    const runs = document.querySelector('#runs-view');
    if (!runs.hidden) {
      return document.querySelector('#runs-result').textContent !== 'loading...';
    }
    const status = document.querySelector('#status');
    return status.className === 'error' || status.textContent.startsWith('done');
  });
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  let wrongQuery = false; // the 400 of the deliberately wrong query is no problem
  page.on('pageerror', (e) => problems.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !(wrongQuery && m.text().includes('status of 400'))) problems.push(m.text());
  });
  page.on('requestfailed', (r) => problems.push('failed: ' + r.url()));
  const out = {};

  await page.goto(base + '/');
  out.presets = await page.$$eval('#presets button', (bs) => bs.map((b) => b.textContent));

  await run(page, () => page.click('#presets button:has-text("Errors counted")'));
  out.countHeader = await header(page, '#result-table');
  out.countRows = await rows(page, '#result-table');
  await page.screenshot({ path: `${shots}/query-count.png`, fullPage: true });

  await run(page, () => page.click('#presets button:has-text("One run")'));
  out.runHeader = await header(page, '#result-table');
  out.runRows = await rows(page, '#result-table');
  await page.screenshot({ path: `${shots}/query-run.png` });

  await run(page, () => page.click('#presets button:has-text("Errors per day")'));
  out.chart = await page.$eval('#chart-svg', (svg) => ({
    kind: svg.dataset.kind, series: svg.querySelectorAll('polyline').length, points: svg.querySelectorAll('circle').length,
  }));
  await page.screenshot({ path: `${shots}/query-timechart.png`, fullPage: true });

  await page.fill('#query-text', "traces | summarize count() by tostring(customDimensions.Level) | render barchart");
  await run(page, () => page.click('#run'));
  out.bars = await page.$eval('#chart-svg', (svg) => ({ kind: svg.dataset.kind, bars: svg.querySelectorAll('rect.bar').length }));
  await page.screenshot({ path: `${shots}/query-barchart.png`, fullPage: true });

  await page.fill('#query-text', "traces | where Level == 'ERROR'");
  wrongQuery = true;
  await run(page, () => page.click('#run'));
  await page.waitForTimeout(100);
  wrongQuery = false;
  out.error = { text: await page.textContent('#status'), class: await page.getAttribute('#status', 'class') };
  await page.screenshot({ path: `${shots}/query-error.png` });

  await run(page, () => page.click('#nav-runs'));
  await page.waitForSelector('#runs-result table');
  out.runsHeader = await header(page, '#runs-result table');
  out.runs = await rows(page, '#runs-result table');
  await page.screenshot({ path: `${shots}/runs.png`, fullPage: true });

  await run(page, () => page.click(`#runs-result a:text-is("${runId}")`));
  await page.waitForSelector('#runs-result table');
  out.stepsHeader = await header(page, '#runs-result table');
  out.steps = await rows(page, '#runs-result table');
  await page.screenshot({ path: `${shots}/run.png`, fullPage: true });

  await run(page, () => page.click(`#runs-result a:text-is("${stepId}")`));
  await page.waitForSelector('#runs-result table');
  out.linesHeader = await header(page, '#runs-result table');
  out.lines = await rows(page, '#runs-result table');
  out.crumbs = await page.textContent('#crumbs');
  await page.screenshot({ path: `${shots}/step.png`, fullPage: true });

  // Another site's page cannot read the API: its request is refused.
  const other = await browser.newPage();
  await other.goto(otherOrigin);
  out.crossSite = await other.evaluate(async (api) => {
    try {
      const r = await fetch(api + '?query=' + encodeURIComponent('traces | count'));
      return 'answered ' + r.status;
    } catch (e) {
      return 'blocked: ' + e.message;
    }
  }, otherAPI + '/v1/apps/local/query');

  out.problems = problems;
  process.stdout.write(JSON.stringify(out));
  await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
