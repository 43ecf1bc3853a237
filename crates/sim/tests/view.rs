//! The simulator-only view routes (`GET /sim/esls`, `GET /sim/esls/{esl_id}/image.png`) over
//! real HTTP: a picture pushed through the signed platform endpoint is what they show.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use esl_model::Model;
use esl_sim::{ApFixture, EslFixture, Fixture, ShopFixture, SimConfig, SimHandle, Simulator};
use md5::{Digest, Md5};
use serde_json::{Value, json};

const APP: &str = "app-view";
const SECRET: &str = "secret-view";

fn esl(esl_id: &str, model: Model) -> EslFixture {
    EslFixture {
        esl_id: esl_id.into(),
        esl_code: String::new(),
        esl_sn: String::new(),
        model,
        shop_id: Some("S1".into()),
        ap_id: Some("AP-1".into()),
        status: None,
        battery: 90,
        rssi: -40,
        software_version: "1.0.1".into(),
    }
}

async fn start() -> SimHandle {
    let fixture = Fixture {
        shops: vec![ShopFixture {
            shop_id: "S1".into(),
            name: "Shop".into(),
        }],
        aps: vec![ApFixture {
            ap_id: "AP-1".into(),
            ap_sn: "SN-1".into(),
            ap_name: "AP".into(),
            model_name: "SLAP1".into(),
            shop_id: "S1".into(),
            status: 1,
            software_version: "1.0.1".into(),
        }],
        esls: vec![esl("A1", Model::Sl121), esl("B2", Model::Sl142)],
        ..Fixture::default()
    };
    Simulator::start(SimConfig::new(APP, SECRET).with_fixture(fixture))
        .await
        .unwrap()
}

/// A white picture of the model's size, as PNG.
fn white_png(model: Model) -> Vec<u8> {
    let (w, h) = model.size();
    let img = image::RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// Pushes `png` to `esl_id` through `/device/esl/pushImage`, signed as the platform wants
/// (written here apart from both esl-push's and the simulator's signing).
async fn push(client: &reqwest::Client, sim: &SimHandle, esl_id: &str, png: &[u8]) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut params = BTreeMap::new();
    params.insert("app_id", APP.to_owned());
    params.insert("timestamp", now.to_string());
    // The seed wants 6 to 10 letters and digits: "r", the id and 4 digits, zero-padded.
    params.insert("random", format!("r{esl_id}{:04}", now % 10_000));
    params.insert("shop_id", "S1".to_owned());
    params.insert("esl_id", esl_id.to_owned());
    let mut text: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    text.push(format!("key={SECRET}"));
    let sign: String = Md5::digest(text.join("&").as_bytes())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();
    params.insert("sign", sign);
    let boundary = "esl-view-test-boundary";
    let mut body = Vec::new();
    for (k, v) in &params {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"pic\"; filename=\"l.png\"\r\nContent-Type: image/png\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let resp = client
        .post(format!("{}/device/esl/pushImage", sim.base_url()))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    json_of(resp).await
}

async fn json_of(resp: reqwest::Response) -> Value {
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

async fn get(client: &reqwest::Client, sim: &SimHandle, path: &str) -> reqwest::Response {
    client
        .get(format!("{}{path}", sim.base_url()))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_view_routes_show_what_each_esl_accepted() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let sim = start().await;
    let client = reqwest::Client::new();

    // Nothing pushed yet: both listed without a picture; their pictures are 404.
    let resp = get(&client, &sim, "/sim/esls").await;
    assert_eq!(resp.status(), 200);
    let list = json_of(resp).await;
    assert_eq!(
        list,
        json!({"esls": [
            {"esl_id": "A1", "shop_id": "S1", "model": "SL121", "push_count": 0,
             "request_seq": null, "width": null, "height": null},
            {"esl_id": "B2", "shop_id": "S1", "model": "SL142", "push_count": 0,
             "request_seq": null, "width": null, "height": null},
        ]})
    );
    let resp = get(&client, &sim, "/sim/esls/A1/image.png").await;
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("no picture"));
    let resp = get(&client, &sim, "/sim/esls/NOPE/image.png").await;
    assert_eq!(resp.status(), 404);
    assert!(resp.text().await.unwrap().contains("no ESL \"NOPE\""));

    // A signed push: the view shows its bytes and the request that delivered them.
    let png = white_png(Model::Sl121);
    let answer = push(&client, &sim, "A1", &png).await;
    assert_eq!(answer["code"], 0, "{answer}");
    let seq = sim.last_image("A1").unwrap().request_seq;
    let (w, h) = Model::Sl121.size();
    let list = json_of(get(&client, &sim, "/sim/esls").await).await;
    assert_eq!(
        list["esls"][0],
        json!({"esl_id": "A1", "shop_id": "S1", "model": "SL121", "push_count": 1,
               "request_seq": seq, "width": w, "height": h})
    );
    assert_eq!(list["esls"][1]["request_seq"], Value::Null);
    let resp = get(&client, &sim, "/sim/esls/A1/image.png").await;
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().as_ref(), &png[..]);

    // A refused picture (wrong size) changes nothing.
    let answer = push(&client, &sim, "B2", &png).await;
    assert_eq!(answer["code"], 5005, "{answer}");
    assert_eq!(
        get(&client, &sim, "/sim/esls/B2/image.png").await.status(),
        404
    );

    // The view is no platform traffic: only the two pushes are in the request log.
    let paths: Vec<String> = sim.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/device/esl/pushImage", "/device/esl/pushImage"]);
}
