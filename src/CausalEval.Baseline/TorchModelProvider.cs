using System.Collections.Concurrent;
using CausalEval.Core;
using CausalEval.Core.Agents;

namespace CausalEval.Baseline;

/// <summary>
/// Model ids <c>torch/&lt;name-or-path&gt;</c>: a checkpoint folder (or its <c>model.bin</c> / <c>model.json</c>) given
/// by path, or a named checkpoint looked up as <c>&lt;root&gt;/&lt;name&gt;</c> in $CAUSALEVAL_MODELS, then
/// <c>./models/torch</c>, then the copy next to the executable (<c>torch/default</c> is the one this repository
/// commits). A checkpoint is loaded once per process and shared by every trial.
/// </summary>
internal sealed class TorchModelProvider : IModelProvider
{
    public const string ModelPrefix = "torch";
    public const string DefaultName = "default";
    public const string DefaultModelId = ModelPrefix + "/" + DefaultName;
    public const string EnvironmentVariable = "CAUSALEVAL_MODELS";

    private static readonly ConcurrentDictionary<string, Lazy<TorchPolicy>> Loaded = new(StringComparer.Ordinal);

    public string Prefix => ModelPrefix;

    /// <summary>The shipped checkpoints imitate causal-DAG episodes only.</summary>
    public bool Plays(string name, string family) => Core.Tasks.TaskDefinition.IsDagFamily(family);

    /// <summary>Folders searched for a named checkpoint, in order.</summary>
    public static IReadOnlyList<string> SearchRoots()
    {
        var roots = new List<string>(3);
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } configured)
        {
            roots.Add(configured);
        }
        roots.Add(Path.Combine(Directory.GetCurrentDirectory(), "models", ModelPrefix));
        roots.Add(Path.Combine(AppContext.BaseDirectory, "models", ModelPrefix));
        return roots;
    }

    public AgentFactory Resolve(string name, string modelId)
    {
        var policy = Load(Locate(name, modelId), modelId);
        return _ => new TorchAgent(policy);
    }

    /// <summary>The checkpoint folder or file a name stands for.</summary>
    public static string Locate(string name, string modelId)
    {
        if (LooksLikePath(name))
        {
            return Directory.Exists(name) || File.Exists(name)
                ? Path.GetFullPath(name)
                : throw new InputException("--model", modelId, $"no checkpoint at '{name}'");
        }
        var roots = SearchRoots();
        foreach (var root in roots)
        {
            var folder = Path.Combine(root, name);
            if (File.Exists(Path.Combine(folder, ModelCard.FileName)))
            {
                return Path.GetFullPath(folder);
            }
        }
        throw new InputException("--model", modelId,
            $"no checkpoint named '{name}' (looked in {string.Join(", ", roots)}); pass a checkpoint folder as torch/<path>");
    }

    /// <summary>Loads a checkpoint once per process (keyed by its folder and its weights' size and time).</summary>
    public static TorchPolicy Load(string path, string modelId)
    {
        var folder = Directory.Exists(path) ? path : Path.GetDirectoryName(path)!;
        var weights = new FileInfo(Path.Combine(folder, ModelCard.WeightsFileName));
        var key = $"{folder}|{(weights.Exists ? weights.Length : -1)}|{(weights.Exists ? weights.LastWriteTimeUtc.Ticks : 0)}";
        var lazy = Loaded.GetOrAdd(key, _ => new Lazy<TorchPolicy>(() => TorchPolicy.Load(path, modelId)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Loaded.TryRemove(key, out _);
            throw;
        }
    }

    private static bool LooksLikePath(string name) =>
        name.Contains('/') || name.Contains('\\') || name.StartsWith('.') || Path.IsPathRooted(name)
        || name.EndsWith(".bin", StringComparison.Ordinal) || name.EndsWith(".json", StringComparison.Ordinal);
}
