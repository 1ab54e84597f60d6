//! `giupdo-bench photos`: decoding, turning, downsizing and re-encoding phone photos.

use std::time::Instant;

use sqlx::PgPool;

use giupdo_bench::kit::{Latency, latency};

/// A synthetic phone photo of `w` × `h`: smooth light and colour with fine grain (what a camera
/// gives a field of grass or a cow's coat), saved as the camera would (JPEG quality 92).
fn phone_photo(w: u32, h: u32) -> Vec<u8> {
    use image::{DynamicImage, Rgb, RgbImage};
    let img = RgbImage::from_fn(w, h, |x, y| {
        let grain = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)).rotate_left(7) % 24;
        let fx = x as f32 / w as f32;
        let fy = y as f32 / h as f32;
        Rgb([
            (60.0 + 120.0 * fx + grain as f32) as u8,
            (110.0 + 80.0 * fy + grain as f32) as u8,
            (40.0 + 60.0 * (fx * fy) + grain as f32) as u8,
        ])
    });
    let mut out = Vec::new();
    let _ = DynamicImage::ImageRgb8(img).write_with_encoder(
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 92),
    );
    out
}

pub(crate) async fn photos_bench(pool: &PgPool, n: usize) -> anyhow::Result<()> {
    sqlx::query("DROP TABLE IF EXISTS bench_photos")
        .execute(pool)
        .await?;
    // The same storage as the `photos` table (migration 0024).
    sqlx::raw_sql(
        "CREATE TABLE bench_photos (jpeg bytea NOT NULL, thumb bytea NOT NULL);
         ALTER TABLE bench_photos ALTER COLUMN jpeg SET STORAGE EXTERNAL;
         ALTER TABLE bench_photos ALTER COLUMN thumb SET STORAGE EXTERNAL;",
    )
    .execute(pool)
    .await?;
    println!(
        "| phone photo | file (KB) | per photo p50 (ms) | p95 (ms) | stored photo (KB) | thumbnail (KB) | in PostgreSQL (KB/photo) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (w, h, label) in [
        (4000u32, 3000u32, "12 MP (4000 × 3000)"),
        (4624, 3472, "16 MP (4624 × 3472)"),
        (1600, 1200, "2 MP (1600 × 1200)"),
    ] {
        let original = tokio::task::spawn_blocking(move || phone_photo(w, h)).await?;
        sqlx::query("TRUNCATE bench_photos").execute(pool).await?;
        let mut times = Vec::with_capacity(n);
        let mut last = None;
        for _ in 0..n {
            let bytes = original.clone();
            let t = Instant::now();
            let p =
                tokio::task::spawn_blocking(move || giupdo::photo::process("bench.jpg", &bytes))
                    .await??;
            times.push(t.elapsed());
            sqlx::query("INSERT INTO bench_photos (jpeg, thumb) VALUES ($1, $2)")
                .bind(&p.jpeg)
                .bind(&p.thumb)
                .execute(pool)
                .await?;
            last = Some(p);
        }
        let stored: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('bench_photos')")
            .fetch_one(pool)
            .await?;
        let p = last.ok_or_else(|| anyhow::anyhow!("không có ảnh nào"))?;
        let Latency { p50, p95, .. } = latency(&times);
        println!(
            "| {label} | {} | {p50:.0} | {p95:.0} | {} | {:.1} | {:.0} |",
            original.len() / 1024,
            p.jpeg.len() / 1024,
            p.thumb.len() as f64 / 1024.0,
            stored as f64 / 1024.0 / n.max(1) as f64,
        );
    }
    sqlx::query("DROP TABLE bench_photos").execute(pool).await?;
    Ok(())
}
