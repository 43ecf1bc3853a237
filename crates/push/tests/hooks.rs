//! The webhook receiver end to end: esl-sim delivers events to a callback registered with
//! `/hook/add`, the receiver (`esl_push::hooks::router`, served on 127.0.0.1) checks them and
//! passes typed events on; forged, stale and replayed deliveries get 401 and go nowhere.

use std::sync::Arc;
use std::time::Duration;

use esl_push::api;
use esl_push::hooks::{Delivery, Event, HookVerifier, router};
use esl_push::sign::{sign, timestamp_now};
use esl_push::{Client, RetryPolicy, Secret};
use esl_sim::{SimConfig, SimHandle, Simulator};
use serde_json::json;
use tokio::sync::mpsc;

const APP: &str = "hook-app";
const SECRET: &str = "hook-secret";
const SHOP: &str = "1001";

struct Setup {
    sim: SimHandle,
    url: String,
    rx: mpsc::Receiver<Delivery>,
}

async fn setup() -> Setup {
    let sim = Simulator::start(SimConfig::new(APP, SECRET)).await.unwrap();
    let (tx, rx) = mpsc::channel(16);
    let verifier = Arc::new(HookVerifier::new(APP, Secret::new(SECRET)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router(verifier, "/hook", tx)).await });
    let client = Client::builder(APP, Secret::new(SECRET))
        .base_url(sim.base_url())
        .retry(RetryPolicy::never())
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    client
        .send(&api::HookAdd {
            shop_id: SHOP.to_owned(),
            http_callback: url.clone(),
            event_list: vec![1010, 1100, 2001, 4100, 6001, 6002, 6003, 7777],
        })
        .await
        .unwrap();
    Setup { sim, url, rx }
}

async fn next(rx: &mut mpsc::Receiver<Delivery>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a delivery in time")
        .expect("the channel is open")
}

#[tokio::test]
async fn the_simulator_delivers_typed_events_to_the_receiver() {
    let mut s = setup().await;
    // The seed's 1010 sample (with its number-or-string ids).
    let motion = json!({"ipc_id": 29388, "sn": "FS101D8BS00080", "name": "设备1",
        "video_url": "http://x/v", "model_name": "FM020", "motion_type": 1});
    assert_eq!(s.sim.deliver(SHOP, 1010, &motion).await.unwrap(), Some(200));
    let d = next(&mut s.rx).await;
    assert_eq!((d.shop_id.as_str(), d.event), (SHOP, 1010));
    assert_eq!(
        d.to_json(),
        json!({"shop_id": SHOP, "event": 1010, "payload": motion})
    );
    match &d.typed {
        Event::MotionDetected(m) => {
            assert_eq!(m.ipc_id, "29388");
            assert_eq!(m.motion_type, 1);
        }
        other => panic!("{other:?}"),
    }
    let receipt = json!({"id": 123, "sn": "sn", "order_id": 456, "order_time": "2020-01-01",
        "total_payment": 10.11, "sales_detail_list": [{"amount": 10, "item": "商品", "quantity": 1}]});
    assert_eq!(
        s.sim.deliver(SHOP, 6003, &receipt).await.unwrap(),
        Some(200)
    );
    match next(&mut s.rx).await.typed {
        Event::Receipt(r) => {
            assert_eq!((r.id.as_str(), r.order_id.as_str()), ("123", "456"));
            assert_eq!(r.sales_detail_list.len(), 1);
            assert_eq!(r.sales_detail_list[0].item, "商品");
        }
        other => panic!("{other:?}"),
    }
    let face = json!({"code": 5527, "msg": "bad face", "face_id": 195});
    s.sim.deliver(SHOP, 1100, &face).await.unwrap();
    assert!(matches!(next(&mut s.rx).await.typed, Event::FaceAdded(f) if f.code == 5527));
    for (event, payload) in [
        (
            2001,
            json!({"ipc_id": "928", "face_id": "29195", "gender": 1, "age_range": 4,
                      "group_id": "8927", "group_name": "stranger", "group_type": 2}),
        ),
        (6001, json!({"id": 1, "sn": "sn", "text": "abc"})),
        (6002, json!({"id": 2, "sn": "sn", "base64_image": "avc"})),
        (4100, json!({"anything": true})),
    ] {
        s.sim.deliver(SHOP, event, &payload).await.unwrap();
        let d = next(&mut s.rx).await;
        let ok = match (&d.typed, event) {
            (Event::FaceRecognised(f), 2001) => f.group_type == 2,
            (Event::ReceiptText(r), 6001) => r.text == "abc",
            (Event::ReceiptImage(r), 6002) => r.base64_image == "avc",
            (Event::PriceChanged(v), 4100) => *v == payload,
            _ => false,
        };
        assert!(ok, "{event}: {:?}", d.typed);
    }
    // An event the seed does not list is kept raw; a listed one of the wrong shape too.
    s.sim.deliver(SHOP, 7777, &json!([1, 2])).await.unwrap();
    assert!(matches!(
        next(&mut s.rx).await.typed,
        Event::Other {
            event: 7777,
            reason: None,
            ..
        }
    ));
    s.sim
        .deliver(SHOP, 6001, &json!("not an object"))
        .await
        .unwrap();
    assert!(matches!(
        next(&mut s.rx).await.typed,
        Event::Other {
            event: 6001,
            reason: Some(_),
            ..
        }
    ));
    // No hook, no delivery.
    assert_eq!(s.sim.deliver("9999", 1010, &motion).await.unwrap(), None);
}

/// A signed form as the platform would send it, with `edit` applied after signing.
fn form(
    random: &str,
    timestamp: u64,
    secret: &str,
    edit: impl Fn(&mut Vec<(String, String)>),
) -> String {
    let mut params: Vec<(String, String)> = [
        ("app_id", APP.to_owned()),
        ("random", random.to_owned()),
        ("timestamp", timestamp.to_string()),
        ("shop_id", SHOP.to_owned()),
        ("event", "6001".to_owned()),
        ("payload", r#"{"id": 1, "sn": "s", "text": "t"}"#.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let sig = sign(
        params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &Secret::new(secret),
    );
    params.push(("sign".to_owned(), sig));
    edit(&mut params);
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
}

async fn post(url: &str, body: String) -> u16 {
    reqwest::Client::new()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn forged_stale_and_replayed_deliveries_get_401_and_go_nowhere() {
    let mut s = setup().await;
    let now = timestamp_now();
    let cases: Vec<(&str, String)> = vec![
        (
            "wrong secret",
            form("abc123", now, "not-the-secret", |_| {}),
        ),
        (
            "payload changed after signing",
            form("abc124", now, SECRET, |p| {
                p[5].1 = r#"{"id": 2}"#.to_owned();
            }),
        ),
        (
            "no sign",
            form("abc125", now, SECRET, |p| p.retain(|(k, _)| k != "sign")),
        ),
        (
            "stale timestamp",
            form("abc126", now - 3600, SECRET, |_| {}),
        ),
        (
            "future timestamp",
            form("abc127", now + 3600, SECRET, |_| {}),
        ),
        (
            "another app",
            form("abc128", now, SECRET, |p| p[0].1 = "other".to_owned()),
        ),
        ("bad random", form("a!", now, SECRET, |_| {})),
    ];
    for (what, body) in cases {
        assert_eq!(post(&s.url, body).await, 401, "{what}");
    }
    // The same delivery twice: the second is a replay.
    let good = form("fresh1", now, SECRET, |_| {});
    assert_eq!(post(&s.url, good.clone()).await, 200);
    assert_eq!(next(&mut s.rx).await.event, 6001);
    assert_eq!(post(&s.url, good).await, 401, "replay");
    // Signed but not JSON: refused as malformed, not passed on.
    let bad_payload = {
        let mut params: Vec<(String, String)> = [
            ("app_id", APP),
            ("random", "fresh2"),
            ("shop_id", SHOP),
            ("event", "6001"),
            ("payload", "{not json"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        params.push(("timestamp".to_owned(), now.to_string()));
        let sig = sign(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &Secret::new(SECRET),
        );
        params.push(("sign".to_owned(), sig));
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish()
    };
    assert_eq!(post(&s.url, bad_payload).await, 400);
    // Nothing refused reached the channel.
    assert!(s.rx.try_recv().is_err());
}
