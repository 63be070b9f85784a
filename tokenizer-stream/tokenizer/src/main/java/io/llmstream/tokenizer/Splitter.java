package io.llmstream.tokenizer;

import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the matches of one pre-tokenization pattern in a char range. The patterns of the known encodings are matched
 * by hand-written scanners ({@link Scanner}) that return exactly the regex's matches; any other pattern runs on
 * java.util.regex with Unicode classes (the exact fallback, slower).
 */
abstract class Splitter {
    /** The GPT-2 / r50k / p50k pattern, as tiktoken writes it today. */
    static final String R50K = "'(?:[sdmt]|ll|ve|re)| ?\\p{L}++| ?\\p{N}++| ?[^\\s\\p{L}\\p{N}]++|\\s++$|\\s+(?!\\S)|\\s";
    /** cl100k_base's pattern, as tiktoken writes it today. */
    static final String CL100K = "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}++|\\p{N}{1,3}+"
            + "| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*+|\\s++$|\\s*[\\r\\n]|\\s+(?!\\S)|\\s";
    /**
     * {@link #CL100K} with the same matches in Oniguruma (HuggingFace), where {@code {1,3}+} would mean a repeated
     * group instead of a possessive interval; nothing follows the interval in its alternative, so greedy is the same.
     */
    static final String CL100K_PORTABLE = CL100K.replace("\\p{N}{1,3}+", "\\p{N}{1,3}");
    /** o200k_base's pattern. */
    static final String O200K = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+"
            + "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    /**
     * Pattern strings with a scanner, recognised by exact equality: tiktoken's spellings old and new, and those of
     * HuggingFace files (GPT-2's ByteLevel regex, Llama-3 = cl100k's older spelling, Qwen2 = that with single digits).
     */
    private static final Map<String, Scanner> SCANNERS = Map.of(
            R50K, Scanner.R50K,
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", Scanner.R50K,
            "'(?:[sdmt]|ll|ve|re)| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", Scanner.R50K,
            "'s|'t|'re|'ve|'m|'ll|'d| ?[\\p{L}]+| ?[\\p{N}]+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+", Scanner.R50K,
            CL100K, Scanner.CL100K,
            CL100K_PORTABLE, Scanner.CL100K,
            "'(?i:[sdmt]|ll|ve|re)|[^\\r\\n\\p{L}\\p{N}]?+\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]++[\\r\\n]*"
                    + "|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+", Scanner.LLAMA3,
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", Scanner.LLAMA3,
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
                    + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", Scanner.QWEN2,
            O200K, Scanner.O200K);

    /** A splitter for a regular expression: a scanner when the pattern is a known one, else java.util.regex. */
    static Splitter regex(String pattern) {
        Scanner scanner = SCANNERS.get(pattern);
        return scanner != null ? scanner : new RegexSplitter(Pattern.compile(pattern, Pattern.UNICODE_CHARACTER_CLASS));
    }

    /** A splitter matching a literal string (HuggingFace's {@code {"String": ...}} pattern). */
    static Splitter literal(String text) {
        return new RegexSplitter(Pattern.compile(Pattern.quote(text)));
    }

    /** Appends the matches found in {@code s[from, to)} to {@code out} (unflagged). */
    abstract void matches(char[] s, int from, int to, Pieces out, Scratch scratch);

    /** True when every char is in some match, so that the matches alone are the pieces. */
    abstract boolean coversAll();

    /** True when matching needs java.util.regex (then lone surrogates are replaced up front, as tiktoken does). */
    abstract boolean usesRegex();

    private static final class RegexSplitter extends Splitter {
        private final Pattern pattern;

        RegexSplitter(Pattern pattern) {
            this.pattern = pattern;
        }

        @Override
        void matches(char[] s, int from, int to, Pieces out, Scratch scratch) {
            Matcher m = scratch.matcher(pattern, s, to);
            m.region(from, to);
            while (m.find()) {
                out.add(m.start(), m.end(), false);
            }
        }

        @Override
        boolean coversAll() {
            return false;
        }

        @Override
        boolean usesRegex() {
            return true;
        }
    }
}
