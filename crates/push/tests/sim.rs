//! esl-push against esl-sim over real HTTP on 127.0.0.1.

use std::collections::HashSet;
use std::time::Duration;

use esl_model::{Ink, Model};
use esl_push::types::{
    BindEsl, EslCodeOrSn, EslIdOrCode, FlashLed, LedColor, Page, PushImage, UnbindEsl,
};
use esl_push::{ApiCode, Client, PushError, RetryPolicy, Secret, TransportKind};
use esl_sim::{Fault, FaultConfig, Fixture, SimConfig, SimHandle, Simulator};

const APP: &str = "test-app";
const SECRET: &str = "test-secret-k3y";
const PUSH: &str = "/device/esl/pushImage";

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(40),
        max_elapsed: Duration::from_secs(30),
        retry_codes: Vec::new(),
    }
}

fn client(sim: &SimHandle) -> Client {
    client_with(sim, SECRET, fast_retry())
}

fn client_with(sim: &SimHandle, secret: &str, retry: RetryPolicy) -> Client {
    Client::builder(APP, Secret::new(secret))
        .base_url(sim.base_url())
        .retry(retry)
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

async fn start(config: SimConfig) -> SimHandle {
    Simulator::start(config).await.unwrap()
}

/// A valid label image for `model`, different for each `n`.
fn label_png(model: Model, n: u32) -> Vec<u8> {
    let (w, h) = model.size();
    let red = model.palette().contains(Ink::Red);
    png(w, h, |x, y| {
        if x == n % w || y == n % h {
            Ink::Black.rgb()
        } else if red && (x + y + n) % 61 == 0 {
            Ink::Red.rgb()
        } else {
            Ink::White.rgb()
        }
    })
}

fn png(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 3]) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb(f(x, y)));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let c = client(&sim);

    // pushImage: SL121 is 129200 in the demo fixture.
    let img = label_png(Model::Sl121, 3);
    let r = c
        .push_image(&PushImage::new("1001", "129200", img.clone()))
        .await
        .unwrap();
    assert_eq!(r.attempts, 1);
    let stored = sim.last_image("129200").unwrap();
    assert_eq!(&*stored.bytes, img.as_slice());
    assert_eq!((stored.width, stored.height), (212, 104));
    // The request was multipart with `pic` and the other fields signed.
    let rec = sim.requests().into_iter().find(|r| r.path == PUSH).unwrap();
    assert_eq!(rec.file_bytes, Some(img.len()));
    for k in ["app_id", "random", "timestamp", "sign", "shop_id", "esl_id"] {
        assert!(
            rec.params.contains_key(k),
            "{k} missing: {:?}",
            rec.params.keys()
        );
    }
    assert!(!rec.params.contains_key("pic"));

    // flashLed, explicit and with the platform's defaults.
    let flash = FlashLed {
        shop_id: "1001".into(),
        esl_id: "129201".into(),
        color: Some(LedColor::Red),
        cycle: Some(50),
        duration: Some(3),
    };
    c.flash_led(&flash).await.unwrap();
    c.flash_led(&FlashLed {
        shop_id: "1001".into(),
        esl_id: "129201".into(),
        ..FlashLed::default()
    })
    .await
    .unwrap();
    let flashes = sim.esl("129201").unwrap().flashes;
    assert_eq!(
        flashes
            .iter()
            .map(|f| (f.channel, f.cycle, f.duration))
            .collect::<Vec<_>>(),
        vec![(8, 50, 3), (4, 100, 8)]
    );

    // getList, one page and all pages.
    let page = c.esl_list("1001", Page { num: 2, size: 2 }).await.unwrap();
    assert_eq!(page.total_count, 6);
    assert_eq!(
        page.esl_list
            .iter()
            .map(|e| e.esl_id.as_str())
            .collect::<Vec<_>>(),
        ["129202", "129203"]
    );
    let all = c.esl_list_all("1001").await.unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(all[0].model(), Some(Model::Sl121));
    assert_eq!(all[0].status, esl_push::EslStatus::PushSuccess);
    assert_eq!(all[1].status, esl_push::EslStatus::WaitingForData);
    let e = c
        .esl_list("1001", Page { num: 0, size: 10 })
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidParameter));

    // getInfo by id and by code.
    let info = c
        .esl_info("1001", &EslIdOrCode::Id("129202".into()))
        .await
        .unwrap();
    assert_eq!(info.model(), Some(Model::Sl126Plus));
    assert_eq!(info.screen_size_name.as_deref(), Some("2.6寸"));
    assert_eq!(info.ap_id.as_deref(), Some("10200"));
    let by_code = c
        .esl_info("1001", &EslIdOrCode::Code(info.esl_code.clone().unwrap()))
        .await
        .unwrap();
    assert_eq!(by_code, info);
    let e = c
        .esl_info("1001", &EslIdOrCode::Id("nope".into()))
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidEsl));

    // getOverview: 2 APs, 6 ESLs, one pushed (status 3), five waiting (status 2).
    let ov = c.overview("1001").await.unwrap();
    assert_eq!(
        (
            ov.ap_total_count,
            ov.esl_total_count,
            ov.esl_pending_count,
            ov.esl_failed_count
        ),
        (2, 6, 5, 0)
    );

    // AP list, info, reboot.
    let aps = c.ap_list_all("1001").await.unwrap();
    assert_eq!(aps.len(), 2);
    assert_eq!(
        c.ap_list("1001", Page::default())
            .await
            .unwrap()
            .total_count,
        2
    );
    let ap = c.ap_info("1001", "10200").await.unwrap();
    assert_eq!((ap.model_name.as_deref(), ap.esl_count), (Some("SLAP1"), 6));
    c.reboot_ap("1001", "10200").await.unwrap();
    assert_eq!(sim.ap("10200").unwrap().reboots, 1);
    let e = c.reboot_ap("1001", "nope").await.unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidAp));

    // bind / unbind.
    let bound = c
        .bind_esl(&BindEsl {
            shop_id: "1001".into(),
            esl: EslCodeOrSn::Code("STOCK001".into()),
        })
        .await
        .unwrap();
    assert_eq!(bound.esl_id, "139201");
    let again = c
        .bind_esl(&BindEsl {
            shop_id: "1001".into(),
            esl: EslCodeOrSn::Sn("B1011940STOCK1".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(again.api_code(), Some(ApiCode::EslAlreadyBound));
    assert_eq!(c.esl_list_all("1001").await.unwrap().len(), 7);
    let un = c
        .unbind_esl(&UnbindEsl {
            shop_id: "1001".into(),
            esl_id: "139201".into(),
        })
        .await
        .unwrap();
    assert_eq!(un.esl_id, "139201");
    let e = c
        .unbind_esl(&UnbindEsl {
            shop_id: "1001".into(),
            esl_id: "139201".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidEsl));

    // Unknown shop.
    let e = c.overview("9999").await.unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidProviderOrShop));

    // Raw call of an endpoint through the same signing path.
    let v = c
        .call_raw("/device/getOverview", &[("shop_id", "1001")])
        .await
        .unwrap();
    assert_eq!(v["esl_total_count"], 6);

    // Every attempt carried its own random.
    let randoms: Vec<_> = sim
        .requests()
        .iter()
        .filter_map(|r| r.params.get("random").cloned())
        .collect();
    assert_eq!(randoms.len(), randoms.iter().collect::<HashSet<_>>().len());
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_signature_is_401_and_not_retried() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let c = client_with(&sim, "wrong-secret", fast_retry());
    let e = c.overview("1001").await.unwrap_err();
    assert!(
        matches!(
            e,
            PushError::Unauthorized {
                code: Some(5090),
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.http_status(), Some(401));
    assert!(!e.to_string().contains("wrong-secret"));
    assert_eq!(sim.request_count(), 1);
}

#[tokio::test]
async fn unknown_app_id_is_5041() {
    let sim = start(SimConfig::new("other-app", SECRET)).await;
    let e = client(&sim).overview("1001").await.unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidProvider));
}

#[tokio::test]
async fn stale_timestamp_is_5091() {
    let mut cfg = SimConfig::new(APP, SECRET);
    cfg.clock_skew_secs = 3600; // the simulator's clock is an hour ahead of ours
    let sim = start(cfg).await;
    let e = client(&sim).overview("1001").await.unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidTimestamp), "{e}");
    assert_eq!(sim.request_count(), 1, "5091 is permanent");
}

#[tokio::test]
async fn reused_or_malformed_random_is_5092() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let secret = Secret::new(SECRET);
    let http = reqwest::Client::new();
    let url = format!("{}/device/getOverview", sim.base_url());
    let send = |random: &'static str| {
        let ts = esl_push::sign::timestamp_now().to_string();
        let mut p = vec![
            ("shop_id", "1001".to_owned()),
            ("app_id", APP.to_owned()),
            ("random", random.to_owned()),
            ("timestamp", ts),
        ];
        let sign = esl_push::sign::sign(p.iter().map(|(k, v)| (*k, v.as_str())), &secret);
        p.push(("sign", sign));
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(p.iter().map(|(k, v)| (*k, v.as_str())))
            .finish();
        let req = http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        async move {
            let text = req.send().await.unwrap().text().await.unwrap();
            serde_json::from_str::<serde_json::Value>(&text).unwrap()["code"]
                .as_i64()
                .unwrap()
        }
    };
    assert_eq!(send("abc123XY").await, 0);
    assert_eq!(send("abc123XY").await, 5092, "a random value is single-use");
    assert_eq!(send("abc12").await, 5092, "5 characters is too short");
}

#[tokio::test]
async fn wrong_size_and_off_palette_are_5005_and_not_retried() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let c = client(&sim);
    // SL126 (129201) needs 296x152; send 212x104.
    let e = c
        .push_image(&PushImage::new(
            "1001",
            "129201",
            label_png(Model::Sl121, 1),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidFile));
    assert!(e.to_string().contains("296x152"), "{e}");
    // SL126+ (129202) is black/white only: red is refused.
    let red = png(296, 152, |x, _| {
        if x == 5 {
            Ink::Red.rgb()
        } else {
            Ink::White.rgb()
        }
    });
    let e = c
        .push_image(&PushImage::new("1001", "129202", red))
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidFile));
    assert!(e.to_string().contains("#ff0000"), "{e}");
    // Grey (anti-aliasing left in) is refused on any model.
    let grey = png(212, 104, |_, _| [200, 200, 200]);
    let e = c
        .push_image(&PushImage::new("1001", "129200", grey))
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidFile));
    // Not an image at all.
    let e = c
        .push_image(&PushImage::new("1001", "129200", b"GIF89a nope".to_vec()))
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidFile));
    assert_eq!(sim.count(PUSH), 4, "5005 is never retried");
    assert!(sim.last_image("129201").is_none() && sim.last_image("129202").is_none());
}

#[tokio::test]
async fn permanent_errors_are_not_retried() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let c = client(&sim);
    let e = c
        .push_image(&PushImage::new(
            "1001",
            "no-such-esl",
            label_png(Model::Sl121, 0),
        ))
        .await
        .unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::InvalidEsl));
    assert_eq!(sim.count(PUSH), 1);
    // An injected permanent code (5004 is not retried by default).
    sim.inject(Fault::Code(5004), 1);
    let e = c.overview("1001").await.unwrap_err();
    assert_eq!(e.api_code(), Some(ApiCode::SystemError));
    assert_eq!(sim.count("/device/getOverview"), 1);
    // A 200 reply that is not the documented JSON keeps its body, and is not retried.
    sim.inject(Fault::Http(200), 1);
    let e = c.overview("1001").await.unwrap_err();
    assert!(
        matches!(&e, PushError::Decode { body, .. } if body.contains("injected fault")),
        "{e}"
    );
    assert_eq!(sim.count("/device/getOverview"), 2);
    // A 404 (wrong base path) is not retried either; its body names the request.
    let wrong = Client::builder(APP, Secret::new(SECRET))
        .base_url(format!("{}/openapi", sim.base_url()))
        .retry(fast_retry())
        .build()
        .unwrap();
    let e = wrong.overview("1001").await.unwrap_err();
    assert!(
        matches!(&e, PushError::Http { status: 404, body, .. } if body.contains("/openapi/device/getOverview")),
        "{e}"
    );
    assert_eq!(sim.count("/openapi/device/getOverview"), 1);
}

#[tokio::test]
async fn transient_faults_are_retried_with_fresh_signatures() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let c = client(&sim);
    let img = label_png(Model::Sl121, 9);
    for fault in [
        Fault::Http(503),
        Fault::Http(500),
        Fault::Http(429),
        Fault::Drop,
        Fault::Code(5000),
    ] {
        sim.clear_log();
        sim.inject(fault, 2);
        let r = c
            .push_image(&PushImage::new("1001", "129200", img.clone()))
            .await
            .unwrap();
        assert_eq!(r.attempts, 3, "{fault:?}");
        assert_eq!(sim.count(PUSH), 3, "{fault:?}");
    }
    // The 5000 attempts were read in full: each carried a different random and signature.
    let signed: Vec<_> = sim
        .requests()
        .into_iter()
        .map(|r| (r.params["random"].clone(), r.params["sign"].clone()))
        .collect();
    assert_eq!(signed.len(), 3);
    assert_eq!(signed.iter().map(|s| &s.0).collect::<HashSet<_>>().len(), 3);
    assert_eq!(signed.iter().map(|s| &s.1).collect::<HashSet<_>>().len(), 3);

    // A reply slower than the request time-out is a transient time-out.
    let impatient = Client::builder(APP, Secret::new(SECRET))
        .base_url(sim.base_url())
        .retry(fast_retry())
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    sim.inject(Fault::Delay(Duration::from_secs(2)), 1);
    let r = impatient.overview("1001").await.unwrap();
    assert_eq!(r.esl_total_count, 6);

    // Bounded attempts: give up after max_attempts, keeping the last error.
    sim.clear_log();
    sim.inject(Fault::Http(503), 10);
    let three = client_with(
        &sim,
        SECRET,
        RetryPolicy {
            max_attempts: 3,
            ..fast_retry()
        },
    );
    let e = three.overview("1001").await.unwrap_err();
    assert!(matches!(&e, PushError::GaveUp { attempts: 3, .. }), "{e}");
    assert_eq!(e.http_status(), Some(503));
    assert_eq!(sim.request_count(), 3);
}

#[tokio::test]
async fn connection_refused_is_transient() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let url = sim.base_url();
    sim.shutdown().await;
    let c = Client::builder(APP, Secret::new(SECRET))
        .base_url(url)
        .retry(RetryPolicy {
            max_attempts: 2,
            ..fast_retry()
        })
        .build()
        .unwrap();
    let e = c.overview("1001").await.unwrap_err();
    let PushError::GaveUp {
        last, attempts: 2, ..
    } = &e
    else {
        panic!("{e}")
    };
    assert!(
        matches!(
            **last,
            PushError::Transport {
                kind: TransportKind::Connect,
                ..
            }
        ),
        "{last}"
    );
}

#[tokio::test]
async fn body_limit_is_checked_before_sending() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let big = vec![0u8; 1_000_001];
    let e = client(&sim)
        .push_image(&PushImage::new("1001", "129200", big.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            PushError::BodyTooLarge {
                limit: 1_000_000,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(sim.request_count(), 0, "nothing was sent");
    // A client with a looser limit is stopped by the simulator instead (HTTP 413).
    let loose = Client::builder(APP, Secret::new(SECRET))
        .base_url(sim.base_url())
        .max_body_bytes(2_000_000)
        .retry(fast_retry())
        .build()
        .unwrap();
    let e = loose
        .push_image(&PushImage::new("1001", "129200", big))
        .await
        .unwrap_err();
    assert_eq!(e.http_status(), Some(413), "{e}");
    assert_eq!(sim.request_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_pushes_with_ten_percent_faults_all_arrive() {
    const N: usize = 1000;
    let fixture = Fixture::generated("2001", N);
    let models: Vec<Model> = fixture.esls.iter().map(|e| e.model).collect();
    let ids: Vec<String> = fixture.esls.iter().map(|e| e.esl_id.clone()).collect();
    let sim = start(
        SimConfig::new(APP, SECRET)
            .with_fixture(fixture)
            .with_faults(FaultConfig::transient(0.10, 42)),
    )
    .await;
    let images: Vec<Vec<u8>> = (0..N).map(|i| label_png(models[i], i as u32)).collect();
    let jobs: Vec<PushImage> = (0..N)
        .map(|i| PushImage::new("2001", ids[i].clone(), images[i].clone()))
        .collect();
    let results = client(&sim).push_batch(jobs, 16).await;
    assert_eq!(results.len(), N);
    let mut retried = 0;
    for (i, item) in results.iter().enumerate() {
        assert_eq!(item.esl_id, ids[i], "results keep the jobs' order");
        let receipt = item
            .result
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", item.esl_id));
        retried += usize::from(receipt.attempts > 1);
        let stored = sim.last_image(&ids[i]).unwrap();
        assert_eq!(
            &*stored.bytes,
            images[i].as_slice(),
            "ESL {} shows the wrong image",
            ids[i]
        );
        assert_eq!(sim.esl(&ids[i]).unwrap().status, 3);
    }
    let log = sim.requests();
    let faulted = log.iter().filter(|r| r.fault.is_some()).count();
    assert_eq!(
        log.len(),
        N + faulted,
        "one extra request per injected fault"
    );
    assert!(
        (50..=170).contains(&faulted),
        "about 10% of ~1100 requests: {faulted}"
    );
    assert!(retried > 0);
    let randoms: Vec<_> = log.iter().filter_map(|r| r.params.get("random")).collect();
    assert_eq!(
        randoms.len(),
        randoms.iter().collect::<HashSet<_>>().len(),
        "every attempt re-signed"
    );
}

#[tokio::test]
async fn batch_reports_each_label() {
    let sim = start(SimConfig::new(APP, SECRET)).await;
    let jobs = vec![
        PushImage::new("1001", "129200", label_png(Model::Sl121, 1)),
        PushImage::new("1001", "129201", label_png(Model::Sl121, 2)), // wrong size for SL126
        PushImage::new("1001", "missing", label_png(Model::Sl121, 3)),
        PushImage::new("1001", "129203", label_png(Model::Sl142, 4)),
    ];
    let out = client(&sim).push_batch(jobs, 4).await;
    let codes: Vec<Option<i64>> = out
        .iter()
        .map(|i| {
            i.result
                .as_ref()
                .err()
                .map(|e| e.api_code().map_or(-1, |c| c.code()))
        })
        .collect();
    assert_eq!(codes, [None, Some(5005), Some(5301), None]);
}
