package dev.mor4j.llama.tokenizer;

/**
 * Letters and numbers that the reference regex engine knows and Java 17 does not. HF {@code tokenizers}
 * (0.23) matches its pre-tokenizer regexes with Oniguruma, whose character tables are at Unicode 16.0, while
 * Java 17's {@code \p{L}} and {@code \p{N}} are at Unicode 13.0; a character assigned in Unicode 14.0–16.0
 * (e.g. U+0870 ARABIC LETTER ALEF WITH ATTACHED FATHA, the CJK extension H and I ideographs) would otherwise be
 * split differently. The ranges below are exactly the code points the reference classifies as {@code \p{L}}
 * (resp. {@code \p{N}}) and Java 17 does not, found by probing the reference on every code point; no code
 * point is in Java 17's classes and missing from the reference's, and {@code \s} agrees everywhere. On a newer
 * Java the ranges overlap its own tables, which is harmless.
 */
final class NewerUnicode {

    /** Regex class-body ranges of the letters (general category L) added in Unicode 14.0–16.0. */
    static final String LETTERS =
            "\\x{870}-\\x{887}\\x{889}-\\x{88E}\\x{8B5}\\x{8C8}-\\x{8C9}\\x{C5D}\\x{CDD}\\x{170D}\\x{171F}"
            + "\\x{1B4C}\\x{1C89}-\\x{1C8A}\\x{2C2F}\\x{2C5F}\\x{9FFD}-\\x{9FFF}\\x{A7C0}-\\x{A7C1}"
            + "\\x{A7CB}-\\x{A7CD}\\x{A7D0}-\\x{A7D1}\\x{A7D3}\\x{A7D5}-\\x{A7DC}\\x{A7F2}-\\x{A7F4}"
            + "\\x{10570}-\\x{1057A}\\x{1057C}-\\x{1058A}\\x{1058C}-\\x{10592}\\x{10594}-\\x{10595}"
            + "\\x{10597}-\\x{105A1}\\x{105A3}-\\x{105B1}\\x{105B3}-\\x{105B9}\\x{105BB}-\\x{105BC}"
            + "\\x{105C0}-\\x{105F3}\\x{10780}-\\x{10785}\\x{10787}-\\x{107B0}\\x{107B2}-\\x{107BA}"
            + "\\x{10D4A}-\\x{10D65}\\x{10D6F}-\\x{10D85}\\x{10EC2}-\\x{10EC4}\\x{10F70}-\\x{10F81}"
            + "\\x{11071}-\\x{11072}\\x{11075}\\x{1123F}-\\x{11240}\\x{11380}-\\x{11389}\\x{1138B}\\x{1138E}"
            + "\\x{11390}-\\x{113B5}\\x{113B7}\\x{113D1}\\x{113D3}\\x{11740}-\\x{11746}\\x{11AB0}-\\x{11ABF}"
            + "\\x{11BC0}-\\x{11BE0}\\x{11F02}\\x{11F04}-\\x{11F10}\\x{11F12}-\\x{11F33}\\x{12F90}-\\x{12FF0}"
            + "\\x{1342F}\\x{13441}-\\x{13446}\\x{13460}-\\x{143FA}\\x{16100}-\\x{1611D}\\x{16A70}-\\x{16ABE}"
            + "\\x{16D40}-\\x{16D6C}\\x{18CFF}\\x{1AFF0}-\\x{1AFF3}\\x{1AFF5}-\\x{1AFFB}\\x{1AFFD}-\\x{1AFFE}"
            + "\\x{1B11F}-\\x{1B122}\\x{1B132}\\x{1B155}\\x{1DF00}-\\x{1DF1E}\\x{1DF25}-\\x{1DF2A}"
            + "\\x{1E030}-\\x{1E06D}\\x{1E290}-\\x{1E2AD}\\x{1E4D0}-\\x{1E4EB}\\x{1E5D0}-\\x{1E5ED}\\x{1E5F0}"
            + "\\x{1E7E0}-\\x{1E7E6}\\x{1E7E8}-\\x{1E7EB}\\x{1E7ED}-\\x{1E7EE}\\x{1E7F0}-\\x{1E7FE}"
            + "\\x{2A6DE}-\\x{2A6DF}\\x{2B735}-\\x{2B739}\\x{2EBF0}-\\x{2EE5D}\\x{31350}-\\x{323AF}";

    /** Regex class-body ranges of the numbers (general category N) added in Unicode 14.0–16.0. */
    static final String NUMBERS =
            "\\x{10D40}-\\x{10D49}\\x{116D0}-\\x{116E3}\\x{11BF0}-\\x{11BF9}\\x{11F50}-\\x{11F59}"
            + "\\x{16130}-\\x{16139}\\x{16AC0}-\\x{16AC9}\\x{16D70}-\\x{16D79}\\x{1CCF0}-\\x{1CCF9}"
            + "\\x{1D2C0}-\\x{1D2D3}\\x{1E4F0}-\\x{1E4F9}\\x{1E5F1}-\\x{1E5FA}";

    private NewerUnicode() {
    }
}
