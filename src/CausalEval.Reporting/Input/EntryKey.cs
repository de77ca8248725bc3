namespace CausalEval.Reporting.Input;

/// <summary>
/// What a leaderboard ranks: a model under one prompt variant and one variable-naming scheme (both null for agents
/// that take no prompt, such as the built-in references).
/// </summary>
internal readonly record struct EntryKey(string Model, string? Variant, string? Naming) : IComparable<EntryKey>
{
    /// <summary>"model", "model [variant]", "model [variant · naming]".</summary>
    public string Label => (Variant, Naming) switch
    {
        (null, null) => Model,
        (_, null) => $"{Model} [{Variant}]",
        (null, _) => $"{Model} [names: {Naming}]",
        _ => $"{Model} [{Variant} · {Naming}]",
    };

    public int CompareTo(EntryKey other)
    {
        var byModel = string.CompareOrdinal(Model, other.Model);
        if (byModel != 0)
        {
            return byModel;
        }
        var byVariant = string.CompareOrdinal(Variant, other.Variant);
        return byVariant != 0 ? byVariant : string.CompareOrdinal(Naming, other.Naming);
    }
}
