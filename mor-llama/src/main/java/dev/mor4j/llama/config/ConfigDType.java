package dev.mor4j.llama.config;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.mor4j.core.MorException;
import dev.mor4j.core.safetensors.DType;
import java.io.IOException;

/**
 * The weights' type as {@code config.json} records it: a top-level {@code "dtype"} (transformers 5) or
 * {@code "torch_dtype"} (transformers 4) string such as {@code "bfloat16"}. Changing it edits only that string
 * in the file's text, so everything else stays byte for byte as it was.
 */
public final class ConfigDType {

    private static final JsonFactory JSON = new JsonFactory();

    private ConfigDType() {
    }

    /**
     * {@code text} with its top-level {@code dtype} and {@code torch_dtype} strings set to {@code dtype}'s PyTorch
     * name ({@code float32}, {@code bfloat16}, {@code float16}); the text itself if it has neither or they
     * already say so.
     *
     * @param source the file's path, for messages
     * @throws MorException naming the source if the text is not a JSON object
     */
    public static String withDType(String text, DType dtype, String source) {
        String replacement = "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(dtype.torchName())) + "\"";
        StringBuilder out = new StringBuilder(text);
        int shift = 0;
        try (JsonParser p = JSON.createParser(text)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new MorException(source + ": expected a JSON object");
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                boolean dtypeField = name.equals("dtype") || name.equals("torch_dtype");
                if (dtypeField && value == JsonToken.VALUE_STRING && !p.getText().equals(dtype.torchName())) {
                    int begin = (int) p.currentTokenLocation().getCharOffset(); // the opening quote
                    int end = closingQuote(text, begin) + 1;
                    out.replace(begin + shift, end + shift, replacement);
                    shift += replacement.length() - (end - begin);
                }
                p.skipChildren();
            }
        } catch (JsonParseException e) {
            throw new MorException(source + ": not valid JSON (" + e.getOriginalMessage() + ")", e);
        } catch (IOException e) {
            throw new MorException(source + ": cannot read: " + e.getMessage(), e);
        }
        return out.toString();
    }

    /** The index of the quote that closes the JSON string opening at {@code open}. */
    private static int closingQuote(String text, int open) {
        for (int i = open + 1; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        throw new IllegalStateException("unterminated string at " + open); // the parser accepted it: cannot happen
    }
}
