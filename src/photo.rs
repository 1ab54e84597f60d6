//! Photos as evidence of deliveries and visits (issue #18): what a phone sends is decoded with the
//! `image` crate, turned upright by its EXIF orientation, re-encoded without any metadata (GPS
//! included: these are poor families' homes), downsized to at most 1600 px on the long side and
//! about 300 KB, with a thumbnail of about 20 KB. Nothing here touches the database or the web.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// Photos a delivery or a visit takes at most.
pub const MAX_PHOTOS: usize = 5;
/// The sum of the photo files of one upload.
pub const MAX_UPLOAD_BYTES: usize = 15 * 1024 * 1024;
/// The long side of the stored photo.
pub const MAX_SIDE: u32 = 1600;
/// The long side of the thumbnail.
pub const THUMB_SIDE: u32 = 320;
/// What the stored photo and the thumbnail aim for.
pub const MAX_PHOTO_BYTES: usize = 300 * 1024;
pub const MAX_THUMB_BYTES: usize = 20 * 1024;
/// A picture larger than this (in pixels) is refused before any pixel is decoded: a phone's 50 MP
/// camera stays under it; a decompression bomb (a small file claiming 100.000 × 100.000) does not.
pub const MAX_PIXELS: u64 = 60_000_000;
/// What the decoder may allocate for one picture.
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

/// A photo ready to store.
#[derive(Debug, Clone)]
pub struct Processed {
    pub jpeg: Vec<u8>,
    pub thumb: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhotoError {
    #[error(
        "Tệp “{0}” là ảnh HEIC (định dạng mặc định của iPhone), máy chủ chưa đọc được. Trên iPhone \
         vào Cài đặt › Camera › Định dạng, chọn “Tương thích nhất”, hoặc gửi ảnh dạng JPEG."
    )]
    Heic(String),
    #[error("Tệp “{0}” không phải là ảnh JPEG, PNG hoặc WebP. Hãy chọn ảnh chụp từ điện thoại.")]
    NotAnImage(String),
    #[error(
        "Ảnh “{0}” quá lớn ({1} × {2} điểm ảnh). Ảnh chụp từ điện thoại không vượt quá 60 triệu điểm ảnh; \
         tệp này có thể bị lỗi."
    )]
    TooManyPixels(String, u32, u32),
    #[error("Không đọc được ảnh “{0}” (tệp bị hỏng hoặc chưa tải hết). Hãy chọn lại ảnh.")]
    Broken(String),
}

fn is_heic(bytes: &[u8]) -> bool {
    // An ISO base media file: a `ftyp` box whose brand is one of HEIF's.
    bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && matches!(
            &bytes[8..12],
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif"
        )
}

/// Decode, turn upright, strip, downsize and re-encode one photo. `name` is the file's name, for
/// the message.
pub fn process(name: &str, bytes: &[u8]) -> Result<Processed, PhotoError> {
    let name = name.to_string();
    if is_heic(bytes) {
        return Err(PhotoError::Heic(name));
    }
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| PhotoError::NotAnImage(name.clone()))?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => {}
        _ => return Err(PhotoError::NotAnImage(name)),
    }
    let mut reader = reader;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    // Only the header is read here: a bomb is refused by the size it claims, before any pixel.
    let mut decoder = reader
        .into_decoder()
        .map_err(|_| PhotoError::Broken(name.clone()))?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS {
        return Err(PhotoError::TooManyPixels(name, w, h));
    }
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(|_| PhotoError::Broken(name))?;
    img.apply_orientation(orientation);
    // `thumbnail` averages whole source areas: for a large reduction it is as sharp as a filtered
    // resize and several times faster (bench photos).
    let img = if img.width().max(img.height()) > MAX_SIDE {
        img.thumbnail(MAX_SIDE, MAX_SIDE)
    } else {
        img
    };
    // JPEG has no alpha: flatten onto white would need compositing; dropping alpha keeps colours.
    let img = DynamicImage::ImageRgb8(img.to_rgb8());
    let thumb = img.thumbnail(THUMB_SIDE, THUMB_SIDE);
    Ok(Processed {
        width: img.width(),
        height: img.height(),
        jpeg: encode_within(&img, MAX_PHOTO_BYTES),
        thumb: encode_within(&thumb, MAX_THUMB_BYTES),
    })
}

/// The best JPEG quality (from 85 down) that fits `budget`; the lowest tried if none does.
fn encode_within(img: &DynamicImage, budget: usize) -> Vec<u8> {
    let mut last = Vec::new();
    for quality in [85u8, 75, 65, 55, 45, 35] {
        let mut out = Vec::with_capacity(budget);
        let encoder = JpegEncoder::new_with_quality(&mut out, quality);
        if img.write_with_encoder(encoder).is_err() {
            continue;
        }
        if out.len() <= budget {
            return out;
        }
        last = out;
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = DynamicImage::new_rgb8(w, h);
        let mut out = Vec::new();
        img.write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn text_and_heic_are_refused_by_name() {
        assert_eq!(
            process("ghi-chu.txt", b"bo cai giong 1 con").unwrap_err(),
            PhotoError::NotAnImage("ghi-chu.txt".into())
        );
        let mut heic = vec![0, 0, 0, 24];
        heic.extend_from_slice(b"ftypheic\0\0\0\0mif1heic");
        assert!(matches!(
            process("IMG_0001.HEIC", &heic),
            Err(PhotoError::Heic(_))
        ));
    }

    #[test]
    fn a_small_png_is_kept_at_its_size_and_becomes_jpeg() {
        let p = process("bo.png", &png(400, 300)).unwrap();
        assert_eq!((p.width, p.height), (400, 300));
        assert_eq!(&p.jpeg[..2], &[0xFF, 0xD8]);
        assert!(p.thumb.len() <= MAX_THUMB_BYTES);
    }

    #[test]
    fn a_truncated_png_is_broken_not_a_panic() {
        let bytes = png(400, 300);
        assert!(matches!(
            process("bo.png", &bytes[..bytes.len() / 2]),
            Err(PhotoError::Broken(_))
        ));
    }
}
