//! One test per endpoint of the table (`esl_push::api::ENDPOINTS`), each a typed request
//! sent with `Client::send` to esl-sim over real HTTP on 127.0.0.1, checking the reply and
//! the simulator's state, and at least one of the seed's error codes where it lists any.

use std::time::Duration;

use esl_model::{Ink, Model};
use esl_push::api::{self, ApiRequest, FileParam, Order, ProductInput};
use esl_push::{Client, PushError, RetryPolicy, Secret};
use esl_sim::{SimConfig, SimHandle, Simulator};

const APP: &str = "ep-app";
const SECRET: &str = "ep-secret";
const SHOP: &str = "1001";
const SUNMI_NO: &str = "560279010307";

async fn setup() -> (SimHandle, Client) {
    let sim = Simulator::start(SimConfig::new(APP, SECRET)).await.unwrap();
    let client = Client::builder(APP, Secret::new(SECRET))
        .base_url(sim.base_url())
        .retry(RetryPolicy::never())
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    (sim, client)
}

fn code(e: &PushError) -> i64 {
    e.api_code().map_or(-1, |c| c.code())
}

async fn err<R: ApiRequest>(c: &Client, req: &R) -> i64 {
    match c.send(req).await {
        Ok(_) => panic!("{} succeeded", R::ENDPOINT.path),
        Err(e) => code(&e),
    }
}

fn s(v: &str) -> String {
    v.to_owned()
}

fn png(model: Model) -> Vec<u8> {
    let (w, h) = model.size();
    let img = image::RgbImage::from_fn(w, h, |x, _| {
        image::Rgb(if x % 2 == 0 {
            Ink::Black.rgb()
        } else {
            Ink::White.rgb()
        })
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn every_endpoint_of_the_table_has_a_test_here() {
    let me = include_str!("endpoints.rs");
    for ep in api::ENDPOINTS {
        let call = format!("api::{} {{", ep.request_type);
        assert!(
            me.contains(&call),
            "no test sends {} ({})",
            ep.request_type,
            ep.path
        );
    }
}

// ---- seed 000 ----

#[tokio::test]
async fn patrol_group_by_inspector() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ServicePatrolStatGroupByInspector {
            sunmi_shop_no: s(SUNMI_NO),
            period: Some(2),
        })
        .await
        .unwrap();
    assert_eq!(r.patrol_inspector_summary_list[0].plan_task_total_count, 28);
    let bad = api::ServicePatrolStatGroupByInspector {
        sunmi_shop_no: s("999"),
        period: None,
    };
    assert_eq!(err(&c, &bad).await, 5013);
}

#[tokio::test]
async fn patrol_group_by_shop() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ServicePatrolStatGroupByShop {
            sunmi_shop_no: s(SUNMI_NO),
            period: None,
        })
        .await
        .unwrap();
    assert!((r.patrol_shop_summary_list[0].avg_score - 5.58).abs() < 1e-9);
    let bad = api::ServicePatrolStatGroupByShop {
        sunmi_shop_no: s(SUNMI_NO),
        period: Some(9),
    };
    assert_eq!(err(&c, &bad).await, 5022);
}

#[tokio::test]
async fn patrol_group_by_template() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ServicePatrolStatGroupByTemplate {
            sunmi_shop_no: s(SUNMI_NO),
            period: Some(5),
        })
        .await
        .unwrap();
    assert_eq!(
        r.patrol_template_summary_list[0].template_id,
        "549755813846"
    );
}

#[tokio::test]
async fn patrol_group_by_check_item() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ServicePatrolStatGroupByCheckItem {
            sunmi_shop_no: s(SUNMI_NO),
            period: Some(1),
        })
        .await
        .unwrap();
    assert_eq!(r.patrol_check_item_summary_list.len(), 2);
}

#[tokio::test]
async fn audit_get_video_list() {
    let (_sim, c) = setup().await;
    let all = c
        .send(&api::ServiceAuditGetVideoList {
            shop_id: Some(s(SHOP)),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.total_count, 2);
    let window = c
        .send(&api::ServiceAuditGetVideoList {
            sunmi_shop_no: Some(s(SUNMI_NO)),
            start_time: Some(1_565_235_760),
            end_time: Some(1_565_239_360),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(window.total_count, 1, "end_time is exclusive");
    assert_eq!(window.audit_video_list[0].ipc_sn, "SS101D8BS09178");
    // Neither shop_id nor sunmi_shop_no: refused before sending.
    let e = c
        .send(&api::ServiceAuditGetVideoList::default())
        .await
        .unwrap_err();
    assert!(matches!(e, PushError::InvalidRequest { .. }), "{e}");
}

// ---- seed 001: orders, hooks ----

#[tokio::test]
async fn order_update() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::OrderUpdate {
            shop_id: s(SHOP),
            order_list: vec![
                Order {
                    order_no: s("CN0000937"),
                    order_type: Some(1),
                    purchase_amount: Some(12.5),
                    ..Default::default()
                },
                Order::default(),
            ],
        })
        .await
        .unwrap();
    assert_eq!(r.invalid_list.len(), 1, "the order without order_no");
    let bad = api::OrderUpdate {
        shop_id: s("nope"),
        order_list: vec![],
    };
    assert_eq!(err(&c, &bad).await, 5013);
}

#[tokio::test]
async fn hook_add() {
    let (sim, c) = setup().await;
    c.send(&api::HookAdd {
        shop_id: s(SHOP),
        http_callback: s("http://127.0.0.1:1/hook"),
        event_list: vec![1010, 6001],
    })
    .await
    .unwrap();
    let sent = sim.requests().pop().unwrap();
    assert_eq!(
        sent.params["event_list"], "[1010,6001]",
        "JSON text in one field"
    );
    assert_eq!(
        sim.hook(SHOP, 6001).as_deref(),
        Some("http://127.0.0.1:1/hook")
    );
    let bad = api::HookAdd {
        shop_id: s(SHOP),
        http_callback: s("ftp://x"),
        event_list: vec![1010],
    };
    assert_eq!(err(&c, &bad).await, 5022);
}

#[tokio::test]
async fn hook_delete() {
    let (sim, c) = setup().await;
    assert!(sim.hook(SHOP, 4100).is_some());
    c.send(&api::HookDelete {
        shop_id: s(SHOP),
        event_list: vec![4100],
    })
    .await
    .unwrap();
    assert!(sim.hook(SHOP, 4100).is_none());
}

// ---- seed 001: ESL §4 ----

#[tokio::test]
async fn esl_bind() {
    let (sim, c) = setup().await;
    let r = c
        .send(&api::DeviceEslBind {
            shop_id: s(SHOP),
            esl_code: Some(s("STOCK001")),
            esl_sn: None,
        })
        .await
        .unwrap();
    assert_eq!(r.esl_id, "139201");
    assert_eq!(sim.esl("139201").unwrap().shop_id.as_deref(), Some(SHOP));
    let again = api::DeviceEslBind {
        shop_id: s(SHOP),
        esl_sn: Some(s("B1011940STOCK1")),
        esl_code: None,
    };
    assert_eq!(err(&c, &again).await, 5338);
}

#[tokio::test]
async fn esl_unbind() {
    let (sim, c) = setup().await;
    let r = c
        .send(&api::DeviceEslUnbind {
            shop_id: s(SHOP),
            esl_id: s("129201"),
        })
        .await
        .unwrap();
    assert_eq!(r.esl_id, "129201");
    assert_eq!(sim.esl("129201").unwrap().shop_id, None);
    let again = api::DeviceEslUnbind {
        shop_id: s(SHOP),
        esl_id: s("129201"),
    };
    assert_eq!(err(&c, &again).await, 5301);
}

#[tokio::test]
async fn esl_get_list() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::DeviceEslGetList {
            shop_id: s(SHOP),
            page_num: Some(1),
            page_size: Some(2),
        })
        .await
        .unwrap();
    assert_eq!((r.total_count, r.esl_list.len()), (6, 2));
    let bad = api::DeviceEslGetList {
        shop_id: s(SHOP),
        page_num: Some(0),
        page_size: None,
    };
    assert_eq!(err(&c, &bad).await, 5020);
}

#[tokio::test]
async fn esl_get_info() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::DeviceEslGetInfo {
            shop_id: s(SHOP),
            esl_code: Some(s("SKDI39D1")),
            esl_id: None,
        })
        .await
        .unwrap();
    assert_eq!(r.esl_id, "129201");
    let bad = api::DeviceEslGetInfo {
        shop_id: s(SHOP),
        esl_id: Some(s("nope")),
        esl_code: None,
    };
    assert_eq!(err(&c, &bad).await, 5301);
}

#[tokio::test]
async fn esl_push_image() {
    let (sim, c) = setup().await;
    let img = png(Model::Sl126);
    c.send(&api::DeviceEslPushImage {
        shop_id: s(SHOP),
        esl_id: s("129201"),
        pic: FileParam::new(img.clone()),
    })
    .await
    .unwrap();
    assert_eq!(&*sim.last_image("129201").unwrap().bytes, img.as_slice());
    let wrong_size = api::DeviceEslPushImage {
        shop_id: s(SHOP),
        esl_id: s("129200"),
        pic: FileParam::new(img),
    };
    assert_eq!(err(&c, &wrong_size).await, 5005);
    let no_file = api::DeviceEslPushImage {
        shop_id: s(SHOP),
        esl_id: s("129200"),
        pic: FileParam::default(),
    };
    assert!(matches!(
        c.send(&no_file).await,
        Err(PushError::InvalidRequest { .. })
    ));
}

#[tokio::test]
async fn esl_flash_led() {
    let (sim, c) = setup().await;
    c.send(&api::DeviceEslFlashLed {
        shop_id: s(SHOP),
        esl_id: s("129200"),
        channel: Some(8),
        ..Default::default()
    })
    .await
    .unwrap();
    let f = sim.esl("129200").unwrap().flashes[0];
    assert_eq!((f.channel, f.cycle, f.duration), (8, 100, 8));
    let bad = api::DeviceEslFlashLed {
        shop_id: s(SHOP),
        esl_id: s("missing"),
        ..Default::default()
    };
    assert_eq!(err(&c, &bad).await, 5301);
}

#[tokio::test]
async fn esl_set_refresh_time() {
    let (_sim, c) = setup().await;
    let req = api::DeviceEslSetRefreshTime {
        shop_id: s(SHOP),
        esl_id: Some(s("129200")),
        esl_code: None,
        refresh_time: 60,
    };
    // "Currently this API is not available": checked, then refused with code 1.
    assert_eq!(err(&c, &req).await, 1);
    let unknown = api::DeviceEslSetRefreshTime {
        esl_id: Some(s("nope")),
        ..req
    };
    assert_eq!(err(&c, &unknown).await, 5301);
}

#[tokio::test]
async fn get_overview() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::DeviceGetOverview { shop_id: s(SHOP) })
        .await
        .unwrap();
    assert_eq!((r.ap_total_count, r.esl_total_count), (2, 6));
    assert_eq!(
        err(&c, &api::DeviceGetOverview { shop_id: s("x") }).await,
        5013
    );
}

// ---- seed 001: AP §5 ----

#[tokio::test]
async fn ap_bind() {
    let (sim, c) = setup().await;
    let r = c
        .send(&api::DeviceApBind {
            shop_id: s(SHOP),
            ap_sn: s("B201E96500009"),
            ap_name: Some(s("Aisle 3")),
            ap_mac: None,
        })
        .await
        .unwrap();
    assert_eq!(sim.ap(&r.ap_id).unwrap().ap_name, "Aisle 3");
    let again = api::DeviceApBind {
        shop_id: s(SHOP),
        ap_sn: s("B201E96500009"),
        ..Default::default()
    };
    assert_eq!(err(&c, &again).await, 5339);
    let unknown = api::DeviceApBind {
        shop_id: s(SHOP),
        ap_sn: s("NOPE"),
        ..Default::default()
    };
    assert_eq!(err(&c, &unknown).await, 5300);
}

#[tokio::test]
async fn ap_unbind() {
    let (sim, c) = setup().await;
    c.send(&api::DeviceApUnbind {
        shop_id: s(SHOP),
        ap_id: s("10201"),
    })
    .await
    .unwrap();
    assert!(sim.ap("10201").is_none());
    let again = api::DeviceApUnbind {
        shop_id: s(SHOP),
        ap_id: s("10201"),
    };
    assert_eq!(err(&c, &again).await, 5300);
}

#[tokio::test]
async fn ap_get_list() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::DeviceApGetList {
            shop_id: s(SHOP),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.total_count, 2);
    let bad = api::DeviceApGetList {
        shop_id: s(SHOP),
        page_size: Some(1000),
        ..Default::default()
    };
    assert_eq!(err(&c, &bad).await, 5020);
}

#[tokio::test]
async fn ap_get_info() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::DeviceApGetInfo {
            shop_id: s(SHOP),
            ap_id: s("10200"),
        })
        .await
        .unwrap();
    assert_eq!(r.ap_name.as_deref(), Some("Gate 5"));
    let bad = api::DeviceApGetInfo {
        shop_id: s(SHOP),
        ap_id: s("1"),
    };
    assert_eq!(err(&c, &bad).await, 5300);
}

#[tokio::test]
async fn ap_update_name() {
    let (sim, c) = setup().await;
    c.send(&api::DeviceApUpdateName {
        shop_id: s(SHOP),
        ap_id: s("10200"),
        ap_name: s("Gate 6"),
    })
    .await
    .unwrap();
    assert_eq!(sim.ap("10200").unwrap().ap_name, "Gate 6");
    let bad = api::DeviceApUpdateName {
        shop_id: s(SHOP),
        ap_id: s("1"),
        ap_name: s("x"),
    };
    assert_eq!(err(&c, &bad).await, 5300);
}

#[tokio::test]
async fn ap_reboot() {
    let (sim, c) = setup().await;
    c.send(&api::DeviceApReboot {
        shop_id: s(SHOP),
        ap_id: s("10200"),
    })
    .await
    .unwrap();
    assert_eq!(sim.ap("10200").unwrap().reboots, 1);
    let bad = api::DeviceApReboot {
        shop_id: s(SHOP),
        ap_id: s("1"),
    };
    assert_eq!(err(&c, &bad).await, 5300);
}

#[tokio::test]
async fn ap_set_scan_time() {
    let (_sim, c) = setup().await;
    let req = api::DeviceApSetScanTime {
        shop_id: s(SHOP),
        ap_id: s("10200"),
        scan_time: 30,
    };
    assert_eq!(err(&c, &req).await, 1, "currently unavailable");
}

// ---- seed 001: firmware §6 ----

#[tokio::test]
async fn ap_firmware_get_list() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::DeviceApFirmwareGetList {
            shop_id: s(SHOP),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.firmware_list.len(), 1);
    assert_eq!(r.firmware_list[0].model_name, "SLAP1");
}

#[tokio::test]
async fn ap_firmware_upgrade() {
    let (_sim, c) = setup().await;
    let req = api::DeviceApFirmwareUpgrade { shop_id: s(SHOP) };
    assert_eq!(err(&c, &req).await, 1, "currently unavailable");
}

#[tokio::test]
async fn esl_firmware_get_list() {
    let (_sim, c) = setup().await;
    // The simulator sends the list under the seed's `ap_firmware_list` key.
    let r = c
        .send(&api::DeviceEslFirmwareGetList {
            shop_id: s(SHOP),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.total_count, 6, "one line per model in the shop");
    assert!(r.firmware_list.iter().any(|f| f.model_name == "SL121+"));
    assert!(r.firmware_list.iter().any(|f| f.model_name == "SL126+"));
}

#[tokio::test]
async fn esl_firmware_upgrade() {
    let (_sim, c) = setup().await;
    let req = api::DeviceEslFirmwareUpgrade { shop_id: s(SHOP) };
    assert_eq!(err(&c, &req).await, 1, "currently unavailable");
}

// ---- seed 001: templates §7 ----

#[tokio::test]
async fn template_create() {
    let (_sim, c) = setup().await;
    let req = api::TemplateCreate {
        shop_id: s(SHOP),
        template_name: s("new"),
        template_color: 2,
        template_screen: 2,
        template_json: s("{\"elements\":[]}"),
    };
    let r = c.send(&req).await.unwrap();
    assert!(!r.template_id.is_empty());
    assert_eq!(err(&c, &req).await, 5346, "same name again");
    let bad = api::TemplateCreate {
        template_name: s("other"),
        template_screen: 7,
        ..req
    };
    assert_eq!(err(&c, &bad).await, 5343);
}

#[tokio::test]
async fn template_update() {
    let (_sim, c) = setup().await;
    c.send(&api::TemplateUpdate {
        shop_id: s(SHOP),
        template_id: s("100"),
        template_name: Some(s("renamed")),
        template_json: None,
    })
    .await
    .unwrap();
    let info = c
        .send(&api::TemplateGetInfo {
            shop_id: s(SHOP),
            template_id: s("100"),
        })
        .await
        .unwrap();
    assert_eq!(info.template_name, "renamed");
    let clash = api::TemplateUpdate {
        shop_id: s(SHOP),
        template_id: s("101"),
        template_name: Some(s("renamed")),
        template_json: None,
    };
    assert_eq!(err(&c, &clash).await, 5346);
}

#[tokio::test]
async fn template_get_list() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::TemplateGetList {
            shop_id: s(SHOP),
            page_num: Some(2),
            page_size: Some(2),
        })
        .await
        .unwrap();
    assert_eq!((r.total_count, r.template_list.len()), (4, 2));
    assert_eq!(r.template_list[0].template_screen, Some(3));
}

#[tokio::test]
async fn template_get_info() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::TemplateGetInfo {
            shop_id: s(SHOP),
            template_id: s("102"),
        })
        .await
        .unwrap();
    assert_eq!(
        (r.template_color_name.as_str(), r.template_screen),
        ("BW", Some(3))
    );
    let bad = api::TemplateGetInfo {
        shop_id: s(SHOP),
        template_id: s("nope"),
    };
    assert_eq!(err(&c, &bad).await, 5343);
}

#[tokio::test]
async fn template_delete() {
    let (sim, c) = setup().await;
    c.send(&api::TemplateDelete {
        shop_id: s(SHOP),
        template_id_list: vec![s("101"), s("102")],
    })
    .await
    .unwrap();
    assert_eq!(
        sim.requests().pop().unwrap().params["template_id_list"],
        r#"["101","102"]"#
    );
    let r = c
        .send(&api::TemplateGetList {
            shop_id: s(SHOP),
            ..Default::default()
        })
        .await
        .unwrap();
    let left: Vec<_> = r
        .template_list
        .iter()
        .map(|t| t.template_id.as_str())
        .collect();
    assert_eq!(left, ["100", "103"]);
}

// ---- seed 001: product binding §8 ----

#[tokio::test]
async fn product_bind_esl() {
    let (_sim, c) = setup().await;
    c.send(&api::ProductBindEsl {
        shop_id: s(SHOP),
        product_id: s("2"),
        esl_code: Some(s("SKDI39D1")),
        esl_id: None,
        template_id: s("101"),
    })
    .await
    .unwrap();
    let r = c
        .send(&api::ProductGetBindEslList {
            shop_id: s(SHOP),
            product_id: s("2"),
        })
        .await
        .unwrap();
    assert_eq!(r.esl_list[0].esl_id, "129201");
    let no_product = api::ProductBindEsl {
        shop_id: s(SHOP),
        product_id: s("404"),
        esl_id: Some(s("129202")),
        esl_code: None,
        template_id: s("101"),
    };
    assert_eq!(err(&c, &no_product).await, 5015);
    let no_template = api::ProductBindEsl {
        product_id: s("2"),
        template_id: s("999"),
        ..no_product
    };
    assert_eq!(err(&c, &no_template).await, 5343);
}

#[tokio::test]
async fn product_unbind_esl() {
    let (_sim, c) = setup().await;
    let req = api::ProductUnbindEsl {
        shop_id: s(SHOP),
        esl_id: Some(s("129200")),
        esl_code: None,
    };
    c.send(&req).await.unwrap();
    assert_eq!(err(&c, &req).await, 5320, "no product any more");
}

#[tokio::test]
async fn product_get_bind_esl_list() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ProductGetBindEslList {
            shop_id: s(SHOP),
            product_id: s("1"),
        })
        .await
        .unwrap();
    assert_eq!(r.esl_list.len(), 1);
    assert_eq!(r.esl_list[0].template_id.as_deref(), Some("100"));
    let bad = api::ProductGetBindEslList {
        shop_id: s(SHOP),
        product_id: s("404"),
    };
    assert_eq!(err(&c, &bad).await, 5015);
}

#[tokio::test]
async fn product_update_template() {
    let (_sim, c) = setup().await;
    c.send(&api::ProductUpdateTemplate {
        shop_id: s(SHOP),
        product_id: s("1"),
        template_id: s("101"),
    })
    .await
    .unwrap();
    let r = c
        .send(&api::ProductGetBindEslList {
            shop_id: s(SHOP),
            product_id: s("1"),
        })
        .await
        .unwrap();
    assert_eq!(r.esl_list[0].template_id.as_deref(), Some("101"));
    let bad = api::ProductUpdateTemplate {
        shop_id: s(SHOP),
        product_id: s("1"),
        template_id: s("nope"),
    };
    assert_eq!(err(&c, &bad).await, 5343);
}

#[tokio::test]
async fn product_get_info() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ProductGetInfo {
            shop_id: s(SHOP),
            product_id: s("1"),
        })
        .await
        .unwrap();
    assert_eq!(r.name.as_deref(), Some("Cola 250ml"));
    let bad = api::ProductGetInfo {
        shop_id: s(SHOP),
        product_id: s("404"),
    };
    assert_eq!(err(&c, &bad).await, 5015);
}

#[tokio::test]
async fn product_get_list() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ProductGetList {
            shop_id: s(SHOP),
            keyword: Some(s("milk")),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.total_count, 1);
    assert_eq!(r.product_list[0].id, "2");
}

// ---- seed 001: Product APIs ----

fn product(id: &str, name: Option<&str>, price: f64) -> ProductInput {
    ProductInput {
        id: s(id),
        name: name.map(s),
        price: Some(price),
        ..Default::default()
    }
}

#[tokio::test]
async fn product_create() {
    let (sim, c) = setup().await;
    let r = c
        .send(&api::ProductCreate {
            shop_id: s(SHOP),
            product_list: vec![
                product("1", Some("Cola"), 3.2),
                product("7", Some("Tea"), 2.0),
                product("8", None, 1.0),
            ],
        })
        .await
        .unwrap();
    let ids = |v: &[api::IdText]| v.iter().map(|i| i.as_str().to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&r.exist_list), ["1"]);
    assert_eq!(ids(&r.invalid_list), ["8"], "create needs a name");
    let sent = &sim.requests().pop().unwrap().params["product_list"];
    assert!(sent.starts_with("[{\"id\":\"1\""), "{sent}");
}

#[tokio::test]
async fn product_update() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ProductUpdate {
            shop_id: s(SHOP),
            product_list: vec![product("1", None, 3.5), product("5", Some("New"), 1.0)],
        })
        .await
        .unwrap();
    assert_eq!(r.not_exist_list[0].as_str(), "5", "update does not create");
    let info = c
        .send(&api::ProductGetInfo {
            shop_id: s(SHOP),
            product_id: s("1"),
        })
        .await
        .unwrap();
    assert_eq!(info.price, Some(serde_json::json!(3.5)));
    assert_eq!(
        info.name.as_deref(),
        Some("Cola 250ml"),
        "unsent fields kept"
    );
    let missing = api::ProductGetInfo {
        shop_id: s(SHOP),
        product_id: s("5"),
    };
    assert_eq!(err(&c, &missing).await, 5015);
}

#[tokio::test]
async fn product_delete() {
    let (_sim, c) = setup().await;
    let r = c
        .send(&api::ProductDelete {
            shop_id: s(SHOP),
            product_key_list: vec![s("2"), s("3")],
        })
        .await
        .unwrap();
    assert_eq!(r.not_exist_list.len(), 1);
    assert_eq!(r.not_exist_list[0].as_str(), "3");
}

// ---- seed 001: Shop APIs ----

fn shop_bind(shop: &str, no: &str, key: &str) -> api::ShopBind {
    api::ShopBind {
        shop_id: s(shop),
        shop_name: s("New shop"),
        sunmi_shop_no: s(no),
        sunmi_shop_key: s(key),
        company_id: s("C1"),
        company_name: s("Company"),
        contact_person: s("Ann"),
        phone: s("123"),
        format: Some(1),
        ..Default::default()
    }
}

#[tokio::test]
async fn shop_bind_maps_a_shop() {
    let (_sim, c) = setup().await;
    assert_eq!(
        err(&c, &shop_bind("2002", "560279010308", "wrong")).await,
        5043
    );
    c.send(&shop_bind("2002", "560279010308", "key-560279010308"))
        .await
        .unwrap();
    // The new shop works for other calls.
    let r = c
        .send(&api::DeviceGetOverview { shop_id: s("2002") })
        .await
        .unwrap();
    assert_eq!(r.esl_total_count, 0);
    assert_eq!(
        err(&c, &shop_bind("2002", "560279010308", "key-560279010308")).await,
        5042
    );
    assert_eq!(err(&c, &shop_bind("2003", "000", "k")).await, 5032);
}

#[tokio::test]
async fn shop_unbind() {
    let (_sim, c) = setup().await;
    c.send(&api::ShopUnbind { shop_id: s(SHOP) }).await.unwrap();
    assert_eq!(
        err(&c, &api::DeviceGetOverview { shop_id: s(SHOP) }).await,
        5013
    );
    assert_eq!(err(&c, &api::ShopUnbind { shop_id: s(SHOP) }).await, 5032);
    // The platform shop is free again.
    c.send(&shop_bind(SHOP, SUNMI_NO, "key-560279010307"))
        .await
        .unwrap();
}

#[tokio::test]
async fn shop_update() {
    let (sim, c) = setup().await;
    c.send(&api::ShopUpdate {
        shop_id: s(SHOP),
        shop_name: s("Renamed"),
        company_name: s("Co"),
        city: Some(s("Shanghai")),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(sim.shop_name(SHOP).as_deref(), Some("Renamed"));
    let bad = api::ShopUpdate {
        shop_id: s("nope"),
        shop_name: s("x"),
        company_name: s("y"),
        ..Default::default()
    };
    assert_eq!(err(&c, &bad).await, 5032);
}
