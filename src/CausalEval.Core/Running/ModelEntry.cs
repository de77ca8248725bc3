namespace CausalEval.Core.Running;

/// <summary>
/// A model as a run is asked for it: a model id (<c>openai/gpt-4o?temperature=0</c>), or <c>NAME=SPEC</c> — the id with a
/// display name that trials, leaderboards and reports show instead of it (<c>run.json</c> keeps both).
/// </summary>
public readonly record struct ModelEntry(string Spec, string? Name)
{
    /// <summary>What tables show: the name, else the id.</summary>
    public string Display => Name ?? Spec;

    /// <summary>
    /// Reads <c>SPEC</c> or <c>NAME=SPEC</c>. The name is what comes before an <c>=</c> that precedes the id's first
    /// <c>/</c> and its settings (whose values hold <c>=</c> too), so <c>openai/m?seed=1</c> is an id, not a name.
    /// </summary>
    /// <param name="source">The option or file field, for messages.</param>
    public static ModelEntry Parse(string text, string source)
    {
        var eq = text.IndexOf('=');
        var slash = text.IndexOf('/');
        var query = text.IndexOf('?');
        if (eq < 0 || (slash >= 0 && slash < eq) || (query >= 0 && query < eq))
        {
            return new ModelEntry(text, null);
        }
        var name = text[..eq].Trim();
        var spec = text[(eq + 1)..].Trim();
        if (name.Length == 0)
        {
            throw new InputException(source, text, "the display name before '=' is empty (NAME=SPEC)");
        }
        if (spec.Length == 0)
        {
            throw new InputException(source, text, "the model id after '=' is empty (NAME=SPEC)");
        }
        if (name.Any(char.IsControl) || name.Contains(',', StringComparison.Ordinal))
        {
            throw new InputException(source, text, "a display name holds no commas or control characters");
        }
        return new ModelEntry(spec, name);
    }

    /// <summary>
    /// The ids and display names of a run's models: every id once, every name once, and no name that is another model's id
    /// (tables could not tell them apart).
    /// </summary>
    public static (List<string> Specs, Dictionary<string, string> Names) Collect(IEnumerable<string> models, string source)
    {
        var entries = models.Select(m => Parse(m, source)).ToList();
        var specs = new List<string>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (specs.Contains(entry.Spec))
            {
                if (entry.Name is null && !names.ContainsKey(entry.Spec))
                {
                    continue; // the same id given twice: played once
                }
                throw new InputException(source, entry.Spec, "this model id is given twice with different display names; give it once");
            }
            if (entries.Where(e => e.Display == entry.Display).Select(e => e.Spec).Distinct().Count() > 1 || (entry.Name is not null && entries.Any(e => e.Spec == entry.Name)))
            {
                throw new InputException(source, entry.Display, "two models would show under this name; give each model its own display name");
            }
            specs.Add(entry.Spec);
            if (entry.Name is not null)
            {
                names[entry.Spec] = entry.Name;
            }
        }
        return (specs, names);
    }
}
