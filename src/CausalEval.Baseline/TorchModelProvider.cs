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

    /// <summary>The committed odd-one-out checkpoints: the explanation baseline and its control (issue 13).</summary>
    public static readonly IReadOnlyList<string> OddOneOutNames = ["ooo-explanations", "ooo-no-explanations"];

    private static readonly ConcurrentDictionary<string, Lazy<ITorchCheckpoint>> Loaded = new(StringComparer.Ordinal);

    public string Prefix => ModelPrefix;

    /// <summary>
    /// The family a checkpoint plays is on its card (<c>torch/default</c>: the causal-DAG ones; <c>torch/ooo-*</c>: odd-one-out).
    /// A name that finds no checkpoint plays everything, so that the error naming the problem comes from <see cref="Resolve"/>.
    /// </summary>
    public bool Plays(string name, string family)
    {
        if (TryLocate(name) is not { } folder)
        {
            return true;
        }
        var card = Cards.GetOrAdd(folder, f => TorchPolicy.ReadCard(f, f).Card);
        return TorchCheckpoint.Plays(card, family);
    }

    private static readonly ConcurrentDictionary<string, ModelCard> Cards = new(StringComparer.Ordinal);

    /// <summary>The checkpoint folder <paramref name="name"/> stands for, or null when there is none.</summary>
    public static string? TryLocate(string name)
    {
        try
        {
            return Locate(name, ModelPrefix + "/" + name);
        }
        catch (InputException)
        {
            return null;
        }
    }

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
        return _ => policy.NewAgent();
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
    public static ITorchCheckpoint Load(string path, string modelId)
    {
        var folder = Directory.Exists(path) ? path : Path.GetDirectoryName(path)!;
        var weights = new FileInfo(Path.Combine(folder, ModelCard.WeightsFileName));
        var key = $"{folder}|{(weights.Exists ? weights.Length : -1)}|{(weights.Exists ? weights.LastWriteTimeUtc.Ticks : 0)}";
        var lazy = Loaded.GetOrAdd(key, _ => new Lazy<ITorchCheckpoint>(() => TorchCheckpoint.Load(path, modelId)));
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
