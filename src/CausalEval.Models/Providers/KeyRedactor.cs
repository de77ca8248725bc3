using System.Text;

namespace CausalEval.Models.Providers;

/// <summary>
/// Scrubs API keys out of text before it is stored or printed (answers, error messages, warnings, cache rows). Every
/// run of characters that is a substring of a key and at least <see cref="MinimumLength"/> long becomes
/// <see cref="Marker"/>: servers echo keys whole, masked (last characters), or cut (a first or last character missing),
/// and all of these are covered. Keys shorter than <see cref="MinimumLength"/> are placeholders for servers without
/// authentication (<c>x</c>, <c>none</c>): they are never redacted, so they cannot mangle ordinary text.
/// </summary>
public sealed class KeyRedactor
{
    /// <summary>Values shorter than this are not treated as keys.</summary>
    public const int MinimumLength = 8;
    /// <summary>What a key is replaced with.</summary>
    public const string Marker = "[redacted]";

    // Every MinimumLength-character window of every key: a text position starting such a window begins a key fragment,
    // and the union of the windows found is exactly the union of the key substrings of MinimumLength or more.
    private readonly HashSet<string> _windows = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    /// <summary>Scrubs each of <paramref name="keys"/> (null and short values ignored).</summary>
    public KeyRedactor(IEnumerable<string?> keys)
    {
        foreach (var key in keys)
        {
            if (key is null || key.Length < MinimumLength)
            {
                continue;
            }
            for (var i = 0; i + MinimumLength <= key.Length; i++)
            {
                _windows.Add(key.Substring(i, MinimumLength));
            }
        }
        _lookup = _windows.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Scrubs nothing.</summary>
    public static KeyRedactor None { get; } = new([]);

    /// <summary>True when there is no key to scrub.</summary>
    public bool IsEmpty => _windows.Count == 0;

    /// <summary>The text with every key fragment of <see cref="MinimumLength"/> or more characters replaced by <see cref="Marker"/>.</summary>
    public string Scrub(string text)
    {
        if (IsEmpty || text.Length < MinimumLength)
        {
            return text;
        }
        StringBuilder? result = null;
        var copied = 0; // text before this index is already in result
        int runStart = -1, runEnd = -1; // the key fragment being covered: [runStart, runEnd)
        var span = text.AsSpan();
        for (var i = 0; i + MinimumLength <= text.Length; i++)
        {
            if (!_lookup.Contains(span.Slice(i, MinimumLength)))
            {
                continue;
            }
            if (runStart >= 0 && i <= runEnd)
            {
                runEnd = i + MinimumLength;
                continue;
            }
            Flush();
            (runStart, runEnd) = (i, i + MinimumLength);
        }
        Flush();
        return result is null ? text : result.Append(text, copied, text.Length - copied).ToString();

        void Flush()
        {
            if (runStart < 0)
            {
                return;
            }
            result ??= new StringBuilder(text.Length);
            result.Append(text, copied, runStart - copied).Append(Marker);
            copied = runEnd;
            runStart = -1;
        }
    }

    /// <summary><see cref="Scrub"/>, passing null through.</summary>
    public string? ScrubOrNull(string? text) => text is null ? null : Scrub(text);
}
