using CausalEval.Models.Providers;

namespace CausalEval.Models.Tests;

/// <summary>
/// Key redaction: every fragment of a key of 8 or more characters is scrubbed, wherever it sits in the text; keys shorter
/// than 8 characters are placeholders and never touch the text.
/// </summary>
public class KeyRedactorTests
{
    private const string Key = "sk-proj-Zq8vN3xKp0LwT5yRb7MjC2dHf9GsAe4Ui6Oo"; // 44 characters, as OpenAI project keys

    private static readonly KeyRedactor Redactor = new([Key]);

    /// <summary>Brute force: is any substring of the key of 8+ characters still in the text?</summary>
    private static bool Leaks(string text, string key)
    {
        for (var i = 0; i + KeyRedactor.MinimumLength <= key.Length; i++)
        {
            if (text.Contains(key.Substring(i, KeyRedactor.MinimumLength), StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    [Theory]
    [InlineData(0, 0)] // the whole key
    [InlineData(0, 1)] // minus its last character (a 401 that leaked 43 of 44 characters)
    [InlineData(2, 0)] // without its first two characters
    [InlineData(32, 0)] // the last 12, as servers that mask keys show them
    [InlineData(10, 26)] // any 8-character piece from the middle
    public void Scrub_a_key_fragment_of_8_or_more_characters_is_redacted(int cutStart, int cutEnd)
    {
        var fragment = Key[cutStart..^cutEnd];
        var text = $"Incorrect API key provided: {fragment}. You can find your API key at https://platform.openai.com/account/api-keys.";

        var scrubbed = Redactor.Scrub(text);

        Assert.False(Leaks(scrubbed, Key), scrubbed);
        Assert.Equal("Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.", scrubbed);
    }

    [Fact]
    public void Scrub_fragments_touching_each_other_or_the_ends_of_the_text_are_all_redacted()
    {
        var text = Key[..20] + Key[25..] + " and " + Key[^9..];

        var scrubbed = Redactor.Scrub(text);

        Assert.False(Leaks(scrubbed, Key), scrubbed);
        Assert.EndsWith(" and [redacted]", scrubbed);
        Assert.StartsWith("[redacted]", scrubbed);
    }

    [Fact]
    public void Scrub_a_7_character_piece_of_a_key_is_ordinary_text()
    {
        var text = $"piece {Key[5..12]} here";

        Assert.Equal(text, Redactor.Scrub(text));
    }

    [Fact]
    public void Scrub_text_without_the_key_is_returned_unchanged()
    {
        const string text = "ACTION: do(A = 5)\nThe effect of A on E is -1.";

        Assert.Same(text, Redactor.Scrub(text));
    }

    [Theory]
    [InlineData("e")]
    [InlineData("x")]
    [InlineData("none")]
    [InlineData("1234567")]
    public void Scrub_keys_under_8_characters_are_placeholders_and_never_mangle_text(string placeholder)
    {
        var redactor = new KeyRedactor([placeholder]);
        const string text = "ClientError: the request was refused: invalid x-api-key none of 1234567 (e.g. ACTION: do(E = 5))";

        Assert.True(redactor.IsEmpty);
        Assert.Equal(text, redactor.Scrub(text));
    }

    [Fact]
    public void Scrub_every_key_given_is_redacted()
    {
        const string other = "AZ-0123456789abcdef0123456789abcdef";
        var redactor = new KeyRedactor([Key, null, "x", other]);

        var scrubbed = redactor.Scrub($"openai {Key[1..]} azure {other[..^3]}");

        Assert.Equal("openai [redacted] azure [redacted]", scrubbed);
    }
}
