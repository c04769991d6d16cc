//! The dashboard of a real `wasmtasks serve`, as a browser without JavaScript sees
//! it: pages need a session (else /login), logging in sets an HttpOnly,
//! SameSite=Strict cookie, actions need the page's CSRF token and a confirmation
//! (and change nothing without them), another tenant's job is a 404 page, and the
//! operator sees each tenant's jobs by picking the tenant.

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use wasmtasks_tests::server::Server;
use wasmtasks_tests::{Workspace, example};

use crate::tenancy_support::*;

/// A browser without JavaScript: follows no redirect, sends `cookie` if given.
struct Browser {
    http: Client,
    url: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(server: &Server) -> Self {
        Browser {
            http: Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            url: server.url.clone(),
            cookie: None,
        }
    }

    /// Logged in with `token` through the login form; the cookie it set.
    fn logged_in(server: &Server, token: &str) -> Self {
        let mut browser = Browser::new(server);
        let answer = browser.post("/login", &[("token", token)]);
        assert_eq!(answer.status(), 303);
        let cookie = answer.headers()[SET_COOKIE].to_str().unwrap().to_owned();
        browser.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        browser
    }

    fn with_cookie(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        }
    }

    fn get(&self, path: &str) -> Response {
        self.with_cookie(self.http.get(format!("{}{path}", self.url)))
            .send()
            .unwrap()
    }

    fn post(&self, path: &str, form: &[(&str, &str)]) -> Response {
        self.with_cookie(self.http.post(format!("{}{path}", self.url)).form(form))
            .send()
            .unwrap()
    }

    /// The page at `path` (200, HTML) as text.
    fn page(&self, path: &str) -> String {
        let answer = self.get(path);
        assert_eq!(answer.status(), 200, "GET {path}");
        assert!(
            answer.headers()[CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        answer.text().unwrap()
    }

    /// The CSRF token the page at `path` embeds in its forms.
    fn csrf(&self, path: &str) -> String {
        let page = self.page(path);
        let start = page
            .find("name=\"csrf\" value=\"")
            .expect("a form with the CSRF token")
            + "name=\"csrf\" value=\"".len();
        page[start..start + 64].to_owned()
    }
}

/// A server without workers (jobs stay READY), tenants alice and bob with admin
/// tokens, alice's arith component and one READY job of hers; the operator's token.
struct Fixture {
    server: Server,
    alice: String,
    bob: String,
    operator: String,
    job: String,
    _workspace: Workspace,
}

fn fixture() -> Fixture {
    let workspace = Workspace::new();
    tenant(&workspace, "alice");
    tenant(&workspace, "bob");
    let alice = token(&workspace, Some("alice"), "admin", &[]);
    let bob = token(&workspace, Some("bob"), "admin", &[]);
    let operator = token(&workspace, None, "", &[]);
    let server = Server::start(&workspace, &[]);
    upload(&server, &alice, &example("arith"));
    upload(&server, &bob, &example("arith"));
    let job = enqueue(&server, &alice, add(2, 3))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        server,
        alice,
        bob,
        operator,
        job,
        _workspace: workspace,
    }
}

fn status(fixture: &Fixture, id: &str) -> String {
    let reply = get(
        &fixture.server,
        &fixture.alice,
        &format!("/api/v1/jobs/{id}"),
    );
    reply.body["status"].as_str().unwrap().to_owned()
}

#[test]
fn dashboard_pages_need_a_session_and_login_sets_a_strict_cookie() {
    let fixture = fixture();
    let anonymous = Browser::new(&fixture.server);
    for path in [
        "/",
        "/jobs",
        &format!("/jobs/{}", fixture.job),
        "/components",
    ] {
        let answer = anonymous.get(path);
        assert_eq!(
            (
                answer.status().as_u16(),
                answer.headers().get(LOCATION).cloned()
            ),
            (303, Some("/login".parse().unwrap())),
            "GET {path} without a session"
        );
    }
    let refused = anonymous.post("/login", &[("token", "wt_nope_nope")]);
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get(SET_COOKIE).is_none());
    assert!(refused.text().unwrap().contains("unknown token"));

    let answer = anonymous.post("/login", &[("token", &fixture.alice)]);
    assert_eq!(answer.status(), 303);
    let cookie = answer.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
    assert_eq!(
        attributes[0],
        format!("wasmtasks_session={}", fixture.alice)
    );
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(attributes.contains(&attribute), "{cookie}");
    }
    let alice = Browser::logged_in(&fixture.server, &fixture.alice);
    let overview = alice.page("/");
    assert!(overview.contains("Queues") && overview.contains("Finished jobs"));
    assert!(alice.page("/jobs").contains(&fixture.job));
    assert!(alice.page("/components").contains("add(a: int, b: int)"));
    let logout = alice.post("/logout", &[("csrf", &alice.csrf("/"))]);
    assert!(
        logout.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // A page that is not there is an HTML page; under /api/ a problem detail.
    let missing = alice.get("/no-such-page");
    assert_eq!(missing.status(), 404);
    assert!(
        missing.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let missing = alice.get("/api/v1/no-such-route");
    assert_eq!(missing.headers()[CONTENT_TYPE], "application/problem+json");
}

#[test]
fn dashboard_actions_need_the_csrf_token_and_a_confirmation() {
    let fixture = fixture();
    let alice = Browser::logged_in(&fixture.server, &fixture.alice);
    let cancel = format!("/jobs/{}/cancel", fixture.job);
    let asking = alice.page(&cancel);
    assert!(asking.contains("Really cancel job"), "{asking}");
    assert_eq!(
        status(&fixture, &fixture.job),
        "READY",
        "GET changes nothing"
    );
    let csrf = alice.csrf(&cancel);
    let wrong = "0".repeat(64);
    for form in [
        vec![("confirm", "yes")],
        vec![("confirm", "yes"), ("csrf", wrong.as_str())],
        vec![("confirm", "yes"), ("csrf", "")],
    ] {
        let answer = alice.post(&cancel, &form);
        assert_eq!(answer.status(), 403, "{form:?}");
        assert!(answer.text().unwrap().contains("CSRF"));
        assert_eq!(status(&fixture, &fixture.job), "READY", "{form:?}");
    }
    // Another session's token is not this one's.
    let bobs = Browser::logged_in(&fixture.server, &fixture.bob).csrf("/");
    assert_ne!(bobs, csrf);
    let answer = alice.post(&cancel, &[("confirm", "yes"), ("csrf", &bobs)]);
    assert_eq!(answer.status(), 403);
    // A wrong header is refused as a wrong field is.
    let answer = alice
        .with_cookie(
            alice
                .http
                .post(format!("{}{cancel}", alice.url))
                .header("x-csrf-token", &wrong)
                .form(&[("confirm", "yes"), ("csrf", csrf.as_str())]),
        )
        .send()
        .unwrap();
    assert_eq!(answer.status(), 403);
    // The right token without the confirmation step is refused too.
    let answer = alice.post(&cancel, &[("csrf", &csrf)]);
    assert_eq!(answer.status(), 400);
    assert_eq!(status(&fixture, &fixture.job), "READY");
    // With both, it is done.
    let answer = alice.post(&cancel, &[("csrf", &csrf), ("confirm", "yes")]);
    assert_eq!(answer.status(), 303);
    assert_eq!(status(&fixture, &fixture.job), "CANCELLED");
    // A queue's pause, the same way.
    let pause = "/queues/default/pause";
    assert_eq!(alice.post(pause, &[("confirm", "yes")]).status(), 403);
    let queues = get(&fixture.server, &fixture.alice, "/api/v1/queues");
    assert_eq!(queues.body[0]["paused"], false, "{queues:?}");
    assert_eq!(
        alice
            .post(pause, &[("confirm", "yes"), ("csrf", &csrf)])
            .status(),
        303
    );
    let queues = get(&fixture.server, &fixture.alice, "/api/v1/queues");
    assert_eq!(queues.body[0]["paused"], true, "{queues:?}");
    assert!(alice.page("/").contains("PAUSED"));
}

#[test]
fn dashboard_another_tenants_job_is_a_404_page() {
    let fixture = fixture();
    let bob = Browser::logged_in(&fixture.server, &fixture.bob);
    for path in [
        format!("/jobs/{}", fixture.job),
        format!("/jobs/{}/cancel", fixture.job),
    ] {
        let answer = bob.get(&path);
        assert_eq!(answer.status(), 404, "GET {path}");
        let page = answer.text().unwrap();
        assert!(page.contains("no task result with id"), "{page}");
        assert!(
            !page.contains("arith.add"),
            "nothing of the job shows: {page}"
        );
    }
    let cancel = format!("/jobs/{}/cancel", fixture.job);
    let answer = bob.post(&cancel, &[("csrf", &bob.csrf("/")), ("confirm", "yes")]);
    assert_eq!(answer.status(), 404);
    assert_eq!(status(&fixture, &fixture.job), "READY");
    assert!(!bob.page("/jobs").contains(&fixture.job));
    // A tenant's token cannot pick another tenant; the tenants page is not there.
    assert!(!bob.page("/jobs?tenant=alice").contains(&fixture.job));
    assert_eq!(bob.get("/tenants").status(), 404);
}

#[test]
fn dashboard_operator_sees_each_tenants_jobs_with_the_filter() {
    let fixture = fixture();
    let bobs_job = enqueue(&fixture.server, &fixture.bob, add(4, 5))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let operator = Browser::logged_in(&fixture.server, &fixture.operator);
    let alices = operator.page("/jobs?tenant=alice");
    assert!(alices.contains(&fixture.job) && !alices.contains(&bobs_job));
    let bobs = operator.page("/jobs?tenant=bob");
    assert!(bobs.contains(&bobs_job) && !bobs.contains(&fixture.job));
    assert!(
        operator
            .page(&format!("/jobs/{bobs_job}?tenant=bob"))
            .contains("arith.add")
    );
    assert_eq!(
        operator
            .get(&format!("/jobs/{bobs_job}?tenant=alice"))
            .status(),
        404
    );
    let tenants = operator.page("/tenants");
    assert!(tenants.contains("tenant-alice") && tenants.contains("tenant-bob"));
    assert!(tenants.contains(token_id(&fixture.alice)));
}

#[test]
fn dashboard_operator_creates_a_token_shown_once_and_revokes_it() {
    let fixture = fixture();
    let operator = Browser::logged_in(&fixture.server, &fixture.operator);
    let csrf = operator.csrf("/tenants");
    let create = "/tenants/alice/tokens";
    let form = [("csrf", csrf.as_str()), ("role", "reader"), ("name", "ops")];
    assert_eq!(
        operator.post(create, &form).status(),
        400,
        "no confirmation"
    );
    let created = operator.post(create, &[form.as_slice(), &[("confirm", "yes")]].concat());
    assert_eq!(created.status(), 200);
    assert_eq!(created.headers()["cache-control"], "no-store");
    let page = created.text().unwrap();
    let start = page.find("id=\"new-token\">").unwrap() + "id=\"new-token\">".len();
    let token = &page[start..start + page[start..].find('<').unwrap()];
    assert!(token.starts_with("wt_"), "{token}");
    assert_eq!(get(&fixture.server, token, "/api/v1/jobs").status, 200);
    let listed = operator.page("/tenants");
    assert!(listed.contains(token_id(token)) && !listed.contains(token));
    let revoke = format!("/tenants/alice/tokens/{}/revoke", token_id(token));
    assert!(operator.page(&revoke).contains("Really revoke token"));
    let answer = operator.post(&revoke, &[("csrf", &csrf), ("confirm", "yes")]);
    assert_eq!(answer.status(), 303);
    assert_eq!(get(&fixture.server, token, "/api/v1/jobs").status, 401);
    // A tenant's admin has no tenants page, nor its actions.
    let alice = Browser::logged_in(&fixture.server, &fixture.alice);
    let answer = alice.post(
        create,
        &[
            ("csrf", &alice.csrf("/")),
            ("role", "reader"),
            ("confirm", "yes"),
        ],
    );
    assert_eq!(answer.status(), 404);
}
