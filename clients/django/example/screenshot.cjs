// Takes example/screenshot.png: real headless Chromium on the running demo (README.md),
// through the page as a person uses it: two notifications, a welcome e-mail and a
// welcome to a bad address, each submitted with its form; waits until htmx has
// polled every row to SUCCESSFUL or FAILED and the inbox shows both notifications.
//
//   npm install --prefix /tmp/pw playwright-core@1.65.1
//   NODE_PATH=/tmp/pw/node_modules node screenshot.cjs [http://127.0.0.1:8001/]
//
// CHROMIUM names the browser (default /usr/bin/chromium).
const path = require("path");
const { chromium } = require("playwright-core");

const site = process.argv[2] || "http://127.0.0.1:8001/";
const out = path.join(__dirname, "screenshot.png");

async function submit(page, form, fields) {
  for (const [name, value] of Object.entries(fields)) {
    await page.fill(`${form} [name="${name}"]`, value);
  }
  const rows = await page.locator("#results tr").count();
  await page.click(`${form} button[type="submit"]`);
  // htmx inserts the new row at the top of the results.
  await page.waitForFunction((n) => document.querySelectorAll("#results tr").length > n, rows);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-background-networking"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 860 } });
    page.on("pageerror", (error) => {
      throw error;
    });
    await page.goto(site, { waitUntil: "networkidle" });
    const notify = 'form[action$="/notify/"]';
    const welcome = 'form[action$="/welcome/"]';
    await submit(page, notify, { message: "Deploy finished: v2.3.1 is live", title: "CI" });
    await submit(page, notify, { message: "Nightly backup completed (42 GB)", title: "Backups" });
    await submit(page, welcome, { user_email: "ada@example.com", username: "ada" });
    await submit(page, welcome, { user_email: "nobody", username: "bob" });

    // Every row finished (no row asks to be polled any more), and the inbox, which
    // htmx refreshes every 2 s, shows what the notify component posted.
    await page.waitForFunction(
      () =>
        document.querySelectorAll("#results tr").length >= 4 &&
        document.querySelectorAll("#results tr[hx-trigger]").length === 0,
      null,
      { timeout: 60000 },
    );
    await page.waitForFunction(
      () => document.querySelectorAll("#inbox tbody tr td:nth-child(3)").length >= 2,
      null,
      { timeout: 30000 },
    );
    const statuses = await page.locator("#results .status").allTextContents();
    console.log("statuses:", statuses.join(", "));
    await page.screenshot({ path: out, fullPage: true });
    console.log(`saved ${out}`);
  } finally {
    await browser.close();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
