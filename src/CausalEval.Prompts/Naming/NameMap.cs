using System.Collections.Immutable;
using CausalEval.Core.Randomness;

namespace CausalEval.Prompts.Naming;

/// <summary>
/// The names a model sees for an episode's variables and the way back: every name shown in a prompt goes through
/// <see cref="Show"/>, every name read from an answer through <see cref="Read"/>, so renaming is consistent.
/// </summary>
internal sealed class NameMap
{
    /// <summary>Marks a name from an answer that is not a shown name but spells a world variable, so it cannot pass as one.</summary>
    internal const string UnknownMark = "?";

    private readonly Dictionary<string, string> _toDisplay;
    private readonly Dictionary<string, string> _toWorld;

    public NameMap(string scheme, ImmutableArray<string> worldNames, ImmutableArray<string> displayNames)
    {
        if (worldNames.Length != displayNames.Length)
        {
            throw new ArgumentException("one display name per variable is needed", nameof(displayNames));
        }
        Scheme = scheme;
        WorldNames = worldNames;
        DisplayNames = displayNames;
        _toDisplay = new Dictionary<string, string>(StringComparer.Ordinal);
        _toWorld = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < worldNames.Length; i++)
        {
            _toDisplay.Add(worldNames[i], displayNames[i]);
            if (!_toWorld.TryAdd(displayNames[i], worldNames[i]))
            {
                throw new ArgumentException($"display name '{displayNames[i]}' is used twice", nameof(displayNames));
            }
        }
    }

    public string Scheme { get; }

    /// <summary>The episode's (observable) variables, in world order.</summary>
    public ImmutableArray<string> WorldNames { get; }

    /// <summary>What the model sees for each of <see cref="WorldNames"/>.</summary>
    public ImmutableArray<string> DisplayNames { get; }

    public static NameMap Identity(ImmutableArray<string> names) => new(NamingSchemes.Letters, names, names);

    /// <summary>The shown name of a world variable.</summary>
    public string Show(string worldName) => _toDisplay.TryGetValue(worldName, out var shown) ? shown : worldName;

    /// <summary>True when <paramref name="displayName"/> is exactly one of the shown names.</summary>
    public bool IsShown(string displayName) => _toWorld.ContainsKey(displayName);

    /// <summary>
    /// The world variable a shown name stands for. A name the model made up is kept as written (the episode engine then
    /// rejects it as unknown), but marked when it happens to spell a world variable's own name — under semantic names,
    /// "A" in an answer must not reach variable A.
    /// </summary>
    public string Read(string displayName)
    {
        if (_toWorld.TryGetValue(displayName, out var world))
        {
            return world;
        }
        return _toDisplay.ContainsKey(displayName) || displayName.StartsWith(UnknownMark, StringComparison.Ordinal)
            ? UnknownMark + displayName
            : displayName;
    }

    /// <summary>The shown form of a name that came back from <see cref="Read"/> (for feedback to the model).</summary>
    public string ShowRead(string name)
    {
        if (_toDisplay.TryGetValue(name, out var shown))
        {
            return shown;
        }
        return name.StartsWith(UnknownMark, StringComparison.Ordinal) ? name[UnknownMark.Length..] : name;
    }

    /// <summary>Finds the shown name an answer meant: exact, then ignoring case, spacing, quotes and underscores.</summary>
    public string? Resolve(string written)
    {
        if (_toWorld.ContainsKey(written))
        {
            return written;
        }
        var key = Loose(written);
        string? found = null;
        foreach (var name in DisplayNames)
        {
            if (Loose(name) == key)
            {
                if (found is not null)
                {
                    return null; // ambiguous
                }
                found = name;
            }
        }
        return found;
    }

    private static string Loose(string name)
    {
        var builder = new System.Text.StringBuilder(name.Length);
        foreach (var c in name.Trim().Trim('"', '\'', '“', '”', '‘', '’', '<', '>', '[', ']'))
        {
            if (char.IsWhiteSpace(c) || c is '_' or '-')
            {
                if (builder.Length > 0 && builder[^1] != ' ')
                {
                    builder.Append(' ');
                }
                continue;
            }
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString().TrimEnd();
    }

    /// <summary>Replaces quoted world names (<c>'C'</c>) in an engine message with their shown names.</summary>
    public string Translate(string message)
    {
        var result = message;
        foreach (var (world, shown) in _toDisplay.OrderByDescending(p => p.Key.Length))
        {
            result = result.Replace($"'{world}'", $"'{shown}'", StringComparison.Ordinal);
        }
        return result.Replace("'" + UnknownMark, "'", StringComparison.Ordinal);
    }
}

/// <summary>
/// Variable naming schemes (an ablation factor): <c>letters</c> keeps the world's names (A, B, C…); <c>semantic</c> and
/// <c>nonsense</c> draw names for each episode from the committed lists <c>prompts/names/&lt;scheme&gt;.txt</c>.
/// </summary>
public static class NamingSchemes
{
    /// <summary>The world's own names (A, B, C…).</summary>
    public const string Letters = "letters";

    /// <summary>Meaningful names drawn per episode.</summary>
    public const string Semantic = "semantic";

    /// <summary>Meaningless pronounceable names drawn per episode.</summary>
    public const string Nonsense = "nonsense";

    /// <summary>The scheme used when none is given.</summary>
    public const string Default = Letters;

    /// <summary>Every scheme.</summary>
    public static readonly ImmutableArray<string> All = [Letters, Semantic, Nonsense];

    /// <summary>
    /// Names for one episode: letters keep the world's names; the other schemes draw distinct names from the list with a
    /// seed from (scheme, <paramref name="key"/>), so every model and prompt variant sees the same names for an episode.
    /// </summary>
    internal static NameMap For(string scheme, ImmutableArray<string> worldNames, IReadOnlyList<string>? list, string key)
    {
        if (scheme == Letters)
        {
            return NameMap.Identity(worldNames);
        }
        if (list is null || list.Count < worldNames.Length)
        {
            throw new InvalidOperationException($"naming scheme '{scheme}' needs at least {worldNames.Length} names");
        }
        var order = Enumerable.Range(0, list.Count).ToArray();
        new SeededRandom(StableId.Seed("names", scheme, key)).Shuffle(order.AsSpan());
        return new NameMap(scheme, worldNames, [.. order.Take(worldNames.Length).Select(i => list[i])]);
    }
}
