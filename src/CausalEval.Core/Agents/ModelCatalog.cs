namespace CausalEval.Core.Agents;

/// <summary>One family of model ids, <c>&lt;prefix&gt;/&lt;name&gt;</c> (DESIGN §2.2).</summary>
public interface IModelProvider
{
    string Prefix { get; }

    /// <summary>Returns the factory for <paramref name="name"/>, or throws <see cref="InputException"/> naming the model id.</summary>
    AgentFactory Resolve(string name, string modelId);

    /// <summary>True when this provider's agents are prompted models: runs play them once per prompt variant.</summary>
    bool TakesPrompts => false;

    /// <summary>Whether model <paramref name="name"/> plays tasks of <paramref name="family"/> (default: every family).</summary>
    bool Plays(string name, string family) => true;
}

/// <summary>A model registered under an exact name (e.g. a library user's own chat client), not through a provider prefix.</summary>
/// <param name="TakesPrompts">True for prompted models: runs play them once per prompt variant.</param>
public sealed record NamedModel(string Name, AgentFactory Factory, bool TakesPrompts);

/// <summary>
/// Resolves model ids to agent factories: an exact <see cref="NamedModel"/> name first, else through the registered providers.
/// </summary>
public sealed class ModelCatalog(IEnumerable<IModelProvider> providers, IEnumerable<NamedModel>? named = null)
{
    private readonly Dictionary<string, IModelProvider> _providers = providers.ToDictionary(p => p.Prefix, StringComparer.Ordinal);
    private readonly Dictionary<string, NamedModel> _named = (named ?? []).ToDictionary(m => m.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Prefixes => _providers.Keys;

    /// <summary>True when <paramref name="modelId"/>'s provider plays prompt variants (an unknown provider: false).</summary>
    public bool TakesPrompts(string modelId)
    {
        if (_named.TryGetValue(modelId, out var model))
        {
            return model.TakesPrompts;
        }
        var slash = modelId.IndexOf('/');
        return slash > 0 && _providers.TryGetValue(modelId[..slash], out var provider) && provider.TakesPrompts;
    }

    /// <summary>
    /// Whether <paramref name="modelId"/> plays tasks of <paramref name="family"/> (a named model or an unknown provider: true,
    /// so the error that names the problem comes from <see cref="Resolve"/>).
    /// </summary>
    public bool Plays(string modelId, string family)
    {
        if (_named.ContainsKey(modelId))
        {
            return true;
        }
        var slash = modelId.IndexOf('/');
        return slash <= 0 || !_providers.TryGetValue(modelId[..slash], out var provider) || provider.Plays(modelId[(slash + 1)..], family);
    }

    public AgentFactory Resolve(string modelId)
    {
        if (_named.TryGetValue(modelId, out var model))
        {
            return model.Factory;
        }
        var slash = modelId.IndexOf('/');
        if (slash <= 0 || slash == modelId.Length - 1)
        {
            throw new InputException("--model", modelId, "expected <provider>/<name>, e.g. builtin/expert");
        }
        var prefix = modelId[..slash];
        return _providers.TryGetValue(prefix, out var provider)
            ? provider.Resolve(modelId[(slash + 1)..], modelId)
            : throw new InputException("--model", modelId, $"unknown provider '{prefix}' (known: {string.Join(", ", _providers.Keys.Order())})");
    }
}

/// <summary>The reference agents as model ids <c>builtin/&lt;name&gt;</c>.</summary>
public sealed class BuiltinModelProvider : IModelProvider
{
    public string Prefix => BuiltinAgents.Prefix;

    public bool Plays(string name, string family) => BuiltinAgents.Plays(name, family);

    public AgentFactory Resolve(string name, string modelId)
        => BuiltinAgents.All.TryGetValue(name, out var entry)
            ? entry.Create
            : name.IndexOf('?') is > 0 and var q && BuiltinAgents.All.ContainsKey(name[..q])
                ? throw new InputException("--model", modelId, $"built-in agents take no settings (?{name[(q + 1)..]}): use {Prefix}/{name[..q]}")
                : throw new InputException("--model", modelId, $"unknown built-in agent (known: {string.Join(", ", BuiltinAgents.All.Keys)})");
}
