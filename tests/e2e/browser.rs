//! A headless Chromium behind its own chromedriver, driven over WebDriver (fantoccini), for
//! the dashboard's tests: synchronous helpers that wait for what a page shows.

use crate::common::repo_root;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a page gets to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(30);

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// A headless Chromium behind its own chromedriver, with a fresh profile.
pub(crate) struct Browser {
    client: Client,
    driver: Child,
    runtime: tokio::runtime::Runtime,
    base: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// `None` (and a note on stderr) when Chromium or chromedriver is not installed.
    pub(crate) fn start(base: &str) -> Option<Browser> {
        let (Some(chromium), Some(chromedriver)) = (
            on_path("chromium").or_else(|| on_path("chromium-browser")),
            on_path("chromedriver"),
        ) else {
            eprintln!(
                "SKIPPED: the dashboard's browser tests need Debian's `chromium` and \
                 `chromium-driver` (apt-get install -y chromium chromium-driver)"
            );
            return None;
        };
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object literal")
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + PATIENCE;
        let client = runtime.block_on(async {
            loop {
                let connector = hyper_util::client::legacy::connect::HttpConnector::new();
                match ClientBuilder::new(connector)
                    .capabilities(capabilities.clone())
                    .connect(&url)
                    .await
                {
                    Ok(client) => break client,
                    // chromedriver is still starting.
                    Err(e) if Instant::now() < deadline => {
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("cannot start a Chromium session: {e}"),
                }
            }
        });
        Some(Browser {
            client,
            driver,
            runtime,
            base: base.to_owned(),
            _profile: profile,
        })
    }

    pub(crate) fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.runtime
            .block_on(self.client.goto(&url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    pub(crate) fn path(&self) -> String {
        let url = self
            .runtime
            .block_on(self.client.current_url())
            .expect("url");
        url.path().to_owned()
    }

    /// Finds `css` and acts on it, again while the live part of the page is being swapped
    /// (the element found may be replaced before it is used).
    fn act(&self, css: &str, what: &str, text: Option<&str>) {
        let deadline = Instant::now() + PATIENCE;
        self.runtime.block_on(async {
            loop {
                let done = match self.client.find(Locator::Css(css)).await {
                    Ok(element) => match text {
                        Some(text) => element.send_keys(text).await,
                        None => element.click().await,
                    },
                    Err(e) => Err(e),
                };
                match done {
                    Ok(()) => return,
                    Err(e) if Instant::now() > deadline => panic!("{what} {css}: {e}"),
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
    }

    pub(crate) fn click(&self, css: &str) {
        self.act(css, "click", None);
    }

    pub(crate) fn type_into(&self, css: &str, text: &str) {
        self.act(css, "type into", Some(text));
    }

    /// Accepts the confirmation a dashboard button asks for.
    pub(crate) fn confirm(&self) {
        let deadline = Instant::now() + PATIENCE;
        self.runtime.block_on(async {
            while let Err(e) = self.client.accept_alert().await {
                assert!(Instant::now() < deadline, "no confirmation asked: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
    }

    pub(crate) fn script(&self, js: &str) -> Value {
        self.runtime
            .block_on(self.client.execute(js, Vec::new()))
            .unwrap_or_else(|e| panic!("run {js}: {e}"))
    }

    /// Waits until `js` (a function body) returns true; fails with the page's text otherwise.
    #[track_caller]
    pub(crate) fn wait_until(&self, what: &str, js: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.script(js) == Value::Bool(true) {
                return;
            }
            if Instant::now() > deadline {
                let text = self.script("return document.body ? document.body.innerText : ''");
                panic!("waited {PATIENCE:?} for {what}; the page says:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the step's status on the execution page (its `data-status`).
    #[track_caller]
    pub(crate) fn wait_step(&self, step: &str, status: &str) {
        self.wait_until(
            &format!("step {step} to be {status}"),
            &format!(
                "var s = document.querySelector('[data-step=\"{step}\"]'); \
                 return !!s && s.getAttribute('data-status') === '{status}';"
            ),
        );
    }

    #[track_caller]
    pub(crate) fn wait_execution(&self, status: &str) {
        self.wait_until(
            &format!("the execution to be {status}"),
            &format!(
                "var s = document.querySelector('[data-status]'); \
                 return !!s && s.getAttribute('data-status') === '{status}';"
            ),
        );
    }

    /// Logs in on the login page the browser shows.
    pub(crate) fn login(&self, key: &str) {
        self.type_into("#key", key);
        self.click("form[action='/login'] button[type=submit]");
        self.wait_until(
            "the login to go through",
            "return location.pathname !== '/login';",
        );
    }

    /// Whether the tests are asked for screenshots (`DO_SCREENSHOTS=DIR`).
    pub(crate) fn screenshots_wanted() -> bool {
        std::env::var_os("DO_SCREENSHOTS").is_some()
    }

    /// Resizes the window (a phone's width, for a screenshot).
    pub(crate) fn set_size(&self, width: u32, height: u32) {
        self.runtime
            .block_on(self.client.set_window_size(width, height))
            .expect("resize the window");
    }

    /// Saves a PNG of the page into `DO_SCREENSHOTS` (relative to the repository) when set.
    pub(crate) fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("DO_SCREENSHOTS") else {
            return;
        };
        let dir = repo_root().join(dir);
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        let png = self
            .runtime
            .block_on(self.client.screenshot())
            .expect("screenshot");
        std::fs::write(dir.join(name), png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.runtime.block_on(self.client.clone().close());
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
