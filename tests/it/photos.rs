//! Photos of deliveries and visits (issue #18): what a phone really sends (a 12 MP JPEG with EXIF
//! orientation and GPS) comes back upright, small and without metadata; who may see and delete a
//! photo; every bad upload refused with nothing stored; a decompression bomb refused without the
//! server's memory growing; the household's consent recorded and audited.

use std::io::{BufRead, BufReader, Cursor, Write};
use std::process::{Command, Stdio};

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Rgb, RgbImage};
use reqwest::multipart::{Form, Part};
use uuid::Uuid;

use crate::fixtures::{World, confirmed_sponsorship, world};
use crate::harness::{Page, TestApp, TestDb, client};

/// A 4000 × 3000 photo as a phone's sensor stores it (landscape), its top-left quarter red, the
/// rest a textured green, saved as JPEG with an EXIF block saying "rotate 90° clockwise to show"
/// (orientation 6: the phone was held upright) and the GPS position of the house.
pub fn phone_jpeg() -> Vec<u8> {
    let img = RgbImage::from_fn(4000, 3000, |x, y| {
        if x < 2000 && y < 1500 {
            Rgb([220, 20, 20])
        } else {
            let n = (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729)) % 64;
            Rgb([20 + n as u8, 140 + (n / 2) as u8, 40])
        }
    });
    let mut jpeg = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
            &mut jpeg, 90,
        ))
        .unwrap();
    // Put the APP1 "Exif" segment right after the SOI marker, where cameras write it.
    let mut out = jpeg[..2].to_vec();
    out.extend(exif_app1(6));
    out.extend(&jpeg[2..]);
    out
}

/// An APP1 segment: a big-endian TIFF with IFD0 {Orientation, GPSInfo → GPS IFD {N, 22°3'12.34"}}.
fn exif_app1(orientation: u16) -> Vec<u8> {
    let mut t: Vec<u8> = b"MM\x00\x2a".to_vec();
    t.extend(8u32.to_be_bytes());
    let entry = |t: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]| {
        t.extend(tag.to_be_bytes());
        t.extend(kind.to_be_bytes());
        t.extend(count.to_be_bytes());
        t.extend(value);
    };
    let gps_ifd: u32 = 8 + 2 + 12 * 2 + 4;
    t.extend(2u16.to_be_bytes());
    let o = orientation.to_be_bytes();
    entry(&mut t, 0x0112, 3, 1, [o[0], o[1], 0, 0]);
    entry(&mut t, 0x8825, 4, 1, gps_ifd.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    let rationals: u32 = gps_ifd + 2 + 12 * 2 + 4;
    t.extend(2u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, rationals.to_be_bytes());
    t.extend(0u32.to_be_bytes());
    for (n, d) in [(22u32, 1u32), (3, 1), (1234, 100)] {
        t.extend(n.to_be_bytes());
        t.extend(d.to_be_bytes());
    }
    let mut seg = vec![0xFF, 0xE1];
    seg.extend(((2 + 6 + t.len()) as u16).to_be_bytes());
    seg.extend(b"Exif\0\0");
    seg.extend(t);
    seg
}

/// A PNG of a few hundred kilobytes that claims 100.000 × 100.000 pixels, with 20 MB of zeros in
/// its compressed data: decoding it naively would need 30 GB.
fn bomb_png() -> Vec<u8> {
    fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        out.extend(kind);
        out.extend(data);
        let mut crc = flate2::Crc::new();
        crc.update(kind);
        crc.update(data);
        out.extend(crc.sum().to_be_bytes());
    }
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend(100_000u32.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]); // 8-bit RGB
    chunk(&mut out, b"IHDR", &ihdr);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..20 {
        z.write_all(&zeros).unwrap();
    }
    chunk(&mut out, b"IDAT", &z.finish().unwrap());
    chunk(&mut out, b"IEND", &[]);
    out
}

async fn signed_in(app: &TestApp, w: &World, who: usize) -> reqwest::Client {
    let c = client();
    let (u, p) = &w.logins[who];
    app.login_with(&c, u, p).await;
    c
}

fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(7))
        .format("%Y-%m-%d")
        .to_string()
}

/// The delivery form as the page sends it, with `files` attached to its photo input.
fn delivery_form(item: &str, files: Vec<(&str, Vec<u8>)>) -> Form {
    let mut f = Form::new()
        .text("phieu", Uuid::new_v4().to_string())
        .text("ngay", today())
        .text("vat_pham", item.to_string())
        .text("so_luong", "1")
        .text("don_vi_tinh", "con")
        .text("don_gia", "16.000.000")
        .text("nguoi_trao", "Lộc Văn Hùng")
        .text("so_bien_ban", "BB-07");
    for (name, bytes) in files {
        f = f.part(
            "anh",
            Part::bytes(bytes)
                .file_name(name.to_string())
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    }
    f
}

async fn send(c: &reqwest::Client, app: &TestApp, path: &str, form: Form) -> Page {
    Page::from(
        c.post(app.url(path))
            .multipart(form)
            .send()
            .await
            .expect("POST"),
    )
    .await
}

async fn get_bytes(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, Vec<u8>) {
    let r = c.get(app.url(path)).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.bytes().await.unwrap().to_vec())
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(app.pool()).await.unwrap()
}

/// Does the JPEG carry any metadata segment (APP1 Exif/XMP, APP13 IPTC…)?
fn has_metadata(jpeg: &[u8]) -> bool {
    let mut i = 2;
    while i + 4 <= jpeg.len() && jpeg[i] == 0xFF {
        let marker = jpeg[i + 1];
        if marker == 0xDA {
            break; // start of scan: the pixels follow
        }
        if (0xE1..=0xEF).contains(&marker) {
            return true;
        }
        let len = u16::from_be_bytes([jpeg[i + 2], jpeg[i + 3]]) as usize;
        i += 2 + len;
    }
    false
}

#[tokio::test]
async fn a_phone_photo_is_stored_upright_small_and_without_its_gps() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let id = confirmed_sponsorship(&app, w.household_x, w.agency_a).await;
    let a = signed_in(&app, &w, 2).await;

    let original = phone_jpeg();
    // The fixture is what it claims: a decoder sees the orientation, and GPS is in the bytes.
    let orientation = ImageReader::new(Cursor::new(&original))
        .with_guessed_format()
        .unwrap()
        .into_decoder()
        .unwrap()
        .orientation()
        .unwrap();
    assert_eq!(orientation, image::metadata::Orientation::Rotate90);
    assert!(has_metadata(&original));

    let done = send(
        &a,
        &app,
        &format!("/nhan-giup/{id}/trao"),
        delivery_form("Bò cái giống", vec![("IMG_20260715_093012.jpg", original)]),
    )
    .await;
    assert_eq!(done.status, 303, "{}", done.text);
    let page = Page::from(
        a.get(app.url(&format!("/nhan-giup/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(page.text.contains("kèm 1 ảnh"), "{}", page.text);
    let photo: Uuid = sqlx::query_scalar(
        "SELECT p.id FROM photos p JOIN deliveries d ON d.id = p.delivery_id WHERE d.sponsorship_id = $1",
    )
    .bind(id)
    .fetch_one(app.pool())
    .await
    .unwrap();
    assert!(page.text.contains(&format!("/anh/{photo}/nho")));

    let (status, jpeg) = get_bytes(&a, &app, &format!("/anh/{photo}")).await;
    assert_eq!(status, 200);
    assert!(jpeg.len() <= 300 * 1024, "{} bytes", jpeg.len());
    assert!(!has_metadata(&jpeg), "metadata left in the stored photo");
    let img = image::load_from_memory_with_format(&jpeg, ImageFormat::Jpeg)
        .unwrap()
        .to_rgb8();
    // Upright: portrait, at most 1600 px on its long side.
    assert_eq!((img.width(), img.height()), (1200, 1600));
    // Turned the right way: the sensor's top-left (red) is now the top-right.
    let red = |p: &Rgb<u8>| p[0] > 150 && p[1] < 80;
    assert!(
        red(img.get_pixel(1100, 100)),
        "{:?}",
        img.get_pixel(1100, 100)
    );
    assert!(
        !red(img.get_pixel(100, 100)),
        "{:?}",
        img.get_pixel(100, 100)
    );
    assert!(!red(img.get_pixel(1100, 1500)));

    let (status, thumb) = get_bytes(&a, &app, &format!("/anh/{photo}/nho")).await;
    assert_eq!(status, 200);
    assert!(thumb.len() <= 20 * 1024, "{} bytes", thumb.len());
    assert!(!has_metadata(&thumb));
    let t = image::load_from_memory(&thumb).unwrap();
    assert_eq!((t.width(), t.height()), (240, 320));

    // Who may see it: the group's agency, the household's commune, clerks; not another agency,
    // not another commune, not a visitor without an account.
    for (who, expected) in [(1, 200), (4, 200), (3, 404), (5, 404)] {
        let c = signed_in(&app, &w, who).await;
        let (s, _) = get_bytes(&c, &app, &format!("/anh/{photo}/nho")).await;
        assert_eq!(s, expected, "user {who}");
    }
    let anonymous = client();
    let r = anonymous
        .get(app.url(&format!("/anh/{photo}")))
        .send()
        .await
        .unwrap();
    assert_ne!(r.status().as_u16(), 200);
    let (s, _) = get_bytes(&a, &app, &format!("/anh/{}", Uuid::new_v4())).await;
    assert_eq!(s, 404);

    // Deleting: not another agency; the uploader within a day may; audited.
    let b = signed_in(&app, &w, 3).await;
    let r = b
        .post(app.url(&format!("/anh/{photo}/xoa")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(count(&app, "SELECT count(*) FROM photos").await, 1);
    let r = a
        .post(app.url(&format!("/anh/{photo}/xoa")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(count(&app, "SELECT count(*) FROM photos").await, 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE entity = 'photo' AND action = 'delete'"
        )
        .await,
        1
    );
    // The delivery stays.
    assert_eq!(count(&app, "SELECT count(*) FROM deliveries").await, 1);
}

#[tokio::test]
async fn bad_photos_bring_the_delivery_back_as_typed_and_store_nothing() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let id = confirmed_sponsorship(&app, w.household_x, w.agency_a).await;
    let a = signed_in(&app, &w, 2).await;
    let small = {
        let mut out = Vec::new();
        DynamicImage::new_rgb8(64, 48)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    };
    let mut heic = vec![0, 0, 0, 24];
    heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
    heic.extend(vec![7u8; 5000]);
    type Files = Vec<(&'static str, Vec<u8>)>;
    let cases: Vec<(Files, &str)> = vec![
        (
            vec![("bien-ban.pdf", b"%PDF-1.4 bien ban ban giao".to_vec())],
            "không phải là ảnh",
        ),
        (vec![("IMG_0001.HEIC", heic)], "HEIC"),
        (
            (0..6).map(|_| ("bo.png", small.clone())).collect(),
            "tối đa 5 ảnh",
        ),
        (
            vec![
                ("a.jpg", vec![0xFF; 8 * 1024 * 1024]),
                ("b.jpg", vec![0xFF; 8 * 1024 * 1024]),
            ],
            "quá 15 MB",
        ),
        (vec![("bom.png", bomb_png())], "quá lớn"),
    ];
    for (files, message) in cases {
        let page = send(
            &a,
            &app,
            &format!("/nhan-giup/{id}/trao"),
            delivery_form("Bò cái giống lai Sind", files),
        )
        .await;
        assert_eq!(page.status, 422, "{message}: {}", page.text);
        assert!(page.text.contains(message), "{message}: {}", page.text);
        // The form comes back with what was typed.
        assert!(
            page.html()
                .select(&scraper::Selector::parse("input[name=vat_pham]").unwrap())
                .any(|e| e.value().attr("value") == Some("Bò cái giống lai Sind")),
            "{message}"
        );
        assert_eq!(count(&app, "SELECT count(*) FROM deliveries").await, 0);
        assert_eq!(count(&app, "SELECT count(*) FROM photos").await, 0);
    }
}

/// The peak resident memory of a process (VmHWM), in KiB.
fn peak_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_decompression_bomb_is_refused_without_the_server_growing() {
    // The server as its own process, so that its memory is its own.
    let db = TestDb::new().await;
    let url = db.url.clone();
    let mut child = Command::new(env!("CARGO_BIN_EXE_giupdo"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("DATABASE_URL", &url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server exited").unwrap();
        if let Some(rest) = line.strip_prefix("giupdo đang phục vụ tại http://") {
            break rest.trim().parse().unwrap();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let app = TestApp::attach(addr, db);
    let w = world(&app).await;
    let id = confirmed_sponsorship(&app, w.household_x, w.agency_a).await;
    let a = signed_in(&app, &w, 2).await;
    // Warm up: a page of the sponsorship, so the baseline includes the normal working set.
    a.get(app.url(&format!("/nhan-giup/{id}")))
        .send()
        .await
        .unwrap();
    let before = peak_kib(child.id());
    let bomb = bomb_png();
    for _ in 0..3 {
        let page = send(
            &a,
            &app,
            &format!("/nhan-giup/{id}/trao"),
            delivery_form("Bò", vec![("bom.png", bomb.clone())]),
        )
        .await;
        assert_eq!(page.status, 422);
        assert!(page.text.contains("quá lớn"), "{}", page.text);
    }
    let after = peak_kib(child.id());
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGTERM);
    }
    child.wait().unwrap();
    // The upload itself is buffered (under 1 MB); 30 GB of pixels were never allocated.
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "peak memory grew from {before} KiB to {after} KiB"
    );
    assert_eq!(count(&app, "SELECT count(*) FROM photos").await, 0);
}

#[tokio::test]
async fn the_familys_consent_is_recorded_by_its_commune_audited_and_shown_on_the_upload_form() {
    let app = TestApp::spawn().await;
    let w = world(&app).await;
    let id = confirmed_sponsorship(&app, w.household_x, w.agency_a).await;
    let a = signed_in(&app, &w, 2).await;
    let x = signed_in(&app, &w, 4).await;
    let show = |c: reqwest::Client| {
        let url = app.url(&format!("/nhan-giup/{id}"));
        async move { Page::from(c.get(url).send().await.unwrap()).await }
    };
    // Not asked yet: the upload form says to photograph the support only, not people.
    let page = show(a.clone()).await;
    assert!(page.text.contains("không chụp người"), "{}", page.text);
    assert!(
        page.html()
            .select(
                &scraper::Selector::parse(
                    "input[type=file][name=anh][accept='image/*'][capture=environment][multiple]"
                )
                .unwrap()
            )
            .next()
            .is_some()
    );

    // An agency may not record it; the household's commune does.
    let r = a
        .post(app.url(&format!("/ho/{}/dong-y-anh", w.household_x)))
        .form(&[("dong_y", "agreed")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    let r = x
        .post(app.url(&format!("/ho/{}/dong-y-anh", w.household_x)))
        .form(&[("dong_y", "agreed")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303);
    let household = Page::from(
        x.get(app.url(&format!("/ho/{}", w.household_x)))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(household.text_of("#consent").contains("đồng ý"));
    assert!(household.text.contains("commune.x") || household.text.contains("ghi lúc"));
    let (consent, by): (String, Option<Uuid>) =
        sqlx::query_as("SELECT photo_consent, photo_consent_by FROM households WHERE id = $1")
            .bind(w.household_x)
            .fetch_one(app.pool())
            .await
            .unwrap();
    assert_eq!((consent.as_str(), by), ("agreed", Some(w.user_ids[4])));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM audit_log WHERE entity = 'household_photo_consent'"
        )
        .await,
        1
    );
    let page = show(a).await;
    assert!(page.text.contains("Gia đình đã đồng ý cho chụp ảnh"));
    assert!(!page.text.contains("không chụp người"));
}
