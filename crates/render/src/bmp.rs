//! Indexed BMP output: 1 bit per pixel on black/white models, 2 bits on black/white/red.
//!
//! The file is a `BITMAPFILEHEADER` (14 bytes), a `BITMAPINFOHEADER` (40 bytes, `BI_RGB`, no
//! compression), the palette (4 bytes per ink: blue, green, red, 0) and the rows bottom-up,
//! each padded to a multiple of 4 bytes, pixels most significant bits first. 2 bits per pixel
//! is a depth of the `BITMAPINFOHEADER` format that some older tools do not read; every
//! decoder we test with (image-rs) does, and it is what 3-colour e-paper tool chains take.
//! The bytes depend only on the label: no time stamps, 0 pixels per metre.

use crate::panel::PanelImage;

impl PanelImage {
    /// The label as an indexed BMP: 1 bit per pixel with the palette white, black on
    /// black/white models; 2 bits with white, black, red on black/white/red models.
    ///
    /// ```
    /// use esl_model::Model;
    /// use esl_render::PanelImage;
    ///
    /// let (w, h) = Model::Sl126Plus.size();
    /// let label = PanelImage::from_indices(Model::Sl126Plus, vec![1; (w * h) as usize]).unwrap();
    /// let bmp = label.to_bmp();
    /// assert_eq!(&bmp[..2], b"BM");
    /// // Rows of 296 px at 1 bit are 37 bytes, padded to 40.
    /// assert_eq!(bmp.len(), 14 + 40 + 2 * 4 + 40 * 152);
    /// ```
    #[must_use]
    pub fn to_bmp(&self) -> Vec<u8> {
        let inks = self.palette().inks();
        let depth: u32 = if inks.len() <= 2 { 1 } else { 2 };
        let (w, h) = (self.width(), self.height());
        let row_bytes = (w * depth).div_ceil(32) as usize * 4;
        let palette_bytes = inks.len() * 4;
        let offset = 14 + 40 + palette_bytes;
        let size = offset + row_bytes * h as usize;
        let mut out = Vec::with_capacity(size);
        // BITMAPFILEHEADER.
        out.extend_from_slice(b"BM");
        out.extend_from_slice(&(size as u32).to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&(offset as u32).to_le_bytes());
        // BITMAPINFOHEADER.
        out.extend_from_slice(&40u32.to_le_bytes());
        out.extend_from_slice(&(w as i32).to_le_bytes());
        out.extend_from_slice(&(h as i32).to_le_bytes()); // positive: bottom-up
        out.extend_from_slice(&1u16.to_le_bytes()); // planes
        out.extend_from_slice(&(depth as u16).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // BI_RGB
        out.extend_from_slice(&((row_bytes * h as usize) as u32).to_le_bytes());
        out.extend_from_slice(&0i32.to_le_bytes()); // pixels per metre, x
        out.extend_from_slice(&0i32.to_le_bytes()); // and y
        out.extend_from_slice(&(inks.len() as u32).to_le_bytes()); // colours used
        out.extend_from_slice(&0u32.to_le_bytes()); // all important
        for ink in inks {
            let [r, g, b] = ink.rgb();
            out.extend_from_slice(&[b, g, r, 0]);
        }
        let px = self.indices();
        let per_byte = (8 / depth) as usize;
        for y in (0..h as usize).rev() {
            let row = &px[y * w as usize..(y + 1) * w as usize];
            let mut packed = vec![0u8; row_bytes];
            for (x, &v) in row.iter().enumerate() {
                let shift = 8 - depth as usize * (x % per_byte + 1);
                packed[x / per_byte] |= v << shift;
            }
            out.extend_from_slice(&packed);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use esl_model::{Ink, Model};

    use crate::PanelImage;

    fn pattern(model: Model) -> PanelImage {
        let (w, h) = model.size();
        let inks = model.palette().inks().len() as u32;
        let px = (0..w * h)
            .map(|i| ((i % w + 3 * (i / w)) % inks) as u8)
            .collect();
        PanelImage::from_indices(model, px).unwrap()
    }

    #[test]
    fn decodes_to_the_same_pixels_on_every_model() {
        for model in Model::ALL {
            let label = pattern(model);
            let bmp = label.to_bmp();
            let decoded = image::load_from_memory_with_format(&bmp, image::ImageFormat::Bmp)
                .unwrap()
                .to_rgb8();
            assert_eq!(decoded.dimensions(), model.size());
            for (i, p) in decoded.pixels().enumerate() {
                let want = Ink::from_index(label.indices()[i]).unwrap().rgb();
                assert_eq!(p.0, want, "{model} pixel {i}");
            }
        }
    }

    #[test]
    fn bytes_are_pinned() {
        // A tiny hand-checked case: the header fields and the first row's bytes of an
        // SL121 label (212 px at 2 bits = 53 bytes, padded to 56), all red but the first
        // pixel of the bottom row, which is black.
        let (w, h) = Model::Sl121.size();
        let mut px = vec![2u8; (w * h) as usize];
        px[((h - 1) * w) as usize] = 1;
        let bmp = PanelImage::from_indices(Model::Sl121, px).unwrap().to_bmp();
        let u32_at = |i: usize| u32::from_le_bytes([bmp[i], bmp[i + 1], bmp[i + 2], bmp[i + 3]]);
        assert_eq!(u32_at(2) as usize, bmp.len());
        assert_eq!(u32_at(10), 14 + 40 + 12); // pixel data offset
        assert_eq!(u32_at(18), 212);
        assert_eq!(u32_at(22), 104);
        assert_eq!(u16::from_le_bytes([bmp[28], bmp[29]]), 2);
        assert_eq!(&bmp[54..66], &[255, 255, 255, 0, 0, 0, 0, 0, 0, 0, 255, 0]);
        // Bottom row first: black (01) then three reds (10 10 10) → 0b01_10_10_10.
        assert_eq!(bmp[66], 0b0110_1010);
        assert_eq!(bmp[67], 0b1010_1010);
        assert_eq!(bmp.len(), 66 + 56 * 104);
        // Padding bytes are zero.
        assert_eq!(&bmp[66 + 53..66 + 56], &[0, 0, 0]);
    }
}
