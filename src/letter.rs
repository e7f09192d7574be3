//! The word back to the referrer as a PDF letter, in English then French, for a referrer who
//! takes paper or fax. Made with `pdf-writer` (the Typst project's PDF writer): one of the
//! PDF's standard fonts (Helvetica, which every reader has), so nothing is embedded and the file
//! stays a few kilobytes. Those fonts cover Western European text (WinAnsi), which is every
//! word we write; a name in another script is kept as "?" in the PDF (the HTML letter shows it
//! whole).

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// What the letter says.
#[derive(Debug, Clone)]
pub struct Letter<'a> {
    pub centre: &'a str,
    /// The day it was written, as the reader writes dates (`2026-12-01`).
    pub date: &'a str,
    pub referred_by: Option<&'a str>,
    /// The client's name (or id) and chart number.
    pub about: &'a str,
    pub chart: Option<&'a str>,
    pub text_en: &'a str,
    pub text_fr: &'a str,
    /// Where the referrer tells us how the referral went for them (a sent summary's link).
    pub feedback: Option<&'a str>,
}

/// US Letter, in points, with one-inch margins.
const WIDTH: f32 = 612.0;
const HEIGHT: f32 = 792.0;
const MARGIN: f32 = 72.0;
const SIZE: f32 = 11.0;
const LEADING: f32 = 15.0;

/// A character in the standard fonts' WinAnsi encoding; "?" where it has none.
fn winansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}' | '\u{202f}' | '\u{2009}' => b' ',
        '\u{a1}'..='\u{ff}' => u8::try_from(u32::from(c)).unwrap_or(b'?'),
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        'Œ' => 0x8c,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        'œ' => 0x9c,
        'Ÿ' => 0x9f,
        _ => b'?',
    }
}

/// Helvetica's width of a character, in thousandths of the font size (the common ones; an
/// average for the rest), to break lines where they fit.
fn width(c: char) -> f32 {
    match c {
        'i' | 'j' | 'l' | '\'' | '’' | '.' | ',' | ':' | ';' | '!' | '|' => 222.0,
        ' ' | 'f' | 't' | 'I' | '(' | ')' | '[' | ']' | '/' => 278.0,
        'r' | '-' => 333.0,
        'm' | 'M' => 833.0,
        'w' | 'W' => 722.0,
        'A'..='Z' => 667.0,
        _ => 556.0,
    }
}

/// Breaks a paragraph into lines no wider than `max` points.
fn wrap(text: &str, size: f32, max: f32) -> Vec<String> {
    let w = |s: &str| s.chars().map(width).sum::<f32>() * size / 1000.0;
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if w(&candidate) > max && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line = word.to_owned();
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// The letter's lines: (bold?, size, text); an empty text is a blank line.
fn lines(l: &Letter<'_>) -> Vec<(bool, f32, String)> {
    let mut out = Vec::new();
    let para = |out: &mut Vec<(bool, f32, String)>, text: &str| {
        for line in wrap(text, SIZE, WIDTH - 2.0 * MARGIN) {
            out.push((false, SIZE, line));
        }
        out.push((false, SIZE, String::new()));
    };
    let chart_en = l.chart.map(|c| format!(" (chart {c})")).unwrap_or_default();
    let chart_fr = l
        .chart
        .map(|c| format!(" (dossier {c})"))
        .unwrap_or_default();
    out.push((true, 16.0, "Referral update".to_owned()));
    para(&mut out, &format!("{} · {}", l.centre, l.date));
    para(
        &mut out,
        &format!(
            "To: {}. About: {}{chart_en}.",
            l.referred_by.unwrap_or("the referring provider"),
            l.about
        ),
    );
    para(&mut out, l.text_en);
    out.push((false, SIZE, String::new()));
    out.push((true, 16.0, "Nouvelles de l'orientation".to_owned()));
    para(&mut out, &format!("{} · {}", l.centre, l.date));
    para(
        &mut out,
        &format!(
            "À : {}. Au sujet de : {}{chart_fr}.",
            l.referred_by.unwrap_or("la personne qui a orienté"),
            l.about
        ),
    );
    para(&mut out, l.text_fr);
    if let Some(link) = l.feedback {
        para(
            &mut out,
            &format!(
                "Tell us how this referral went for you / Votre avis sur cette orientation : {link}"
            ),
        );
    }
    out
}

/// The letter as a PDF file.
#[must_use]
pub fn pdf(l: &Letter<'_>) -> Vec<u8> {
    let all = lines(l);
    // Pages: as many lines as fit between the margins.
    let per_page = ((HEIGHT - 2.0 * MARGIN) / LEADING).floor().max(1.0) as usize;
    let pages: Vec<&[(bool, f32, String)]> = all.chunks(per_page).collect();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first_page = 6;
    let page_ref = |i: usize| Ref::new(first_page + 2 * i32::try_from(i).unwrap_or(0));
    let content_ref = |i: usize| Ref::new(first_page + 1 + 2 * i32::try_from(i).unwrap_or(0));
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids((0..pages.len()).map(page_ref))
        .count(i32::try_from(pages.len()).unwrap_or(1));
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr("Referral update / Nouvelles de l'orientation"))
        .creator(TextStr("matters"));
    for (i, chunk) in pages.iter().enumerate() {
        let mut page = pdf.page(page_ref(i));
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT))
            .parent(tree)
            .contents(content_ref(i));
        {
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(Name(b"F1"), regular);
            fonts.pair(Name(b"F2"), bold);
        }
        page.finish();
        let mut c = Content::new();
        let mut y = HEIGHT - MARGIN;
        for (is_bold, size, text) in chunk.iter() {
            if !text.is_empty() {
                let bytes: Vec<u8> = text.chars().map(winansi).collect();
                c.begin_text();
                c.set_font(Name(if *is_bold { b"F2" } else { b"F1" }), *size);
                c.next_line(MARGIN, y);
                c.show(Str(&bytes));
                c.end_text();
            }
            y -= if *size > SIZE { LEADING * 1.5 } else { LEADING };
        }
        pdf.stream(content_ref(i), &c.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_letters_have_their_accents_and_the_rest_a_question_mark() {
        assert_eq!(winansi('é'), 0xe9);
        assert_eq!(winansi('à'), 0xe0);
        assert_eq!(winansi('’'), 0x92);
        assert_eq!(winansi('œ'), 0x9c);
        assert_eq!(winansi('\u{202f}'), b' ');
        assert_eq!(winansi('ل'), b'?');
    }

    #[test]
    fn lines_break_inside_the_margins() {
        let text = "word ".repeat(200);
        let lines = wrap(&text, SIZE, 468.0);
        assert!(lines.len() > 5, "{}", lines.len());
        for l in &lines {
            let w: f32 = l.chars().map(width).sum::<f32>() * SIZE / 1000.0;
            assert!(w <= 468.0, "{w}: {l}");
        }
    }

    #[test]
    fn a_long_letter_goes_on_to_a_second_page() {
        let long = "Les obstacles nommés sont le transport et le coût. ".repeat(120);
        let l = Letter {
            centre: "CSC",
            date: "2026-12-01",
            referred_by: None,
            about: "Amélie",
            chart: None,
            text_en: &long,
            text_fr: &long,
            feedback: None,
        };
        let bytes = pdf(&l);
        assert!(bytes.starts_with(b"%PDF-"));
        let s = String::from_utf8_lossy(&bytes);
        let count: usize = s
            .split("/Count ")
            .nth(1)
            .and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse().ok())
            .expect("a page count");
        assert!(count >= 2, "{count} page");
    }
}
