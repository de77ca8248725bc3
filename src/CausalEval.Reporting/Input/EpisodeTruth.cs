using System.Buffers;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Text.Json;
using CausalEval.Core;
using CausalEval.Core.Episodes;
using CausalEval.Core.Inference;
using CausalEval.Core.Tasks;
using CausalEval.Core.Worlds;
using TrialPosteriors = System.Collections.Generic.List<(int? BeforeStep, int Experiments,
    System.Collections.Immutable.ImmutableArray<CausalEval.Core.Inference.WeightedHypothesis> Top)>;

namespace CausalEval.Reporting.Input;

/// <summary>
/// The truth behind the causal-DAG episodes the episode browser embeds, computed at report time from the committed
/// splits the runs played (found by <see cref="TaskCatalog.Locate"/> and checked against each run's dataset sha256):
/// per episode the true graph, its total effects and the optimal actions; per embedded trial the ideal observer's most
/// probable hypotheses before each explore step and after the last one, given exactly the evidence that trial saw.
/// </summary>
internal static class EpisodeTruth
{
    /// <summary>Hypotheses shown per posterior.</summary>
    public const int TopHypotheses = 3;

    /// <summary>The truth's share of the page: trials past it get no posteriors (the episodes' truth stays).</summary>
    public const int MaxBytes = 4 << 20;

    /// <summary>
    /// <c>{"episodes": {"task/episode": {...}}, "trials": {"trial id": [{"before_step", "top"}...]}}</c>, or null when no
    /// embedded trial is on a causal-DAG episode the datasets hold; <paramref name="notes"/> gets why parts are missing.
    /// </summary>
    /// <param name="cancellation">Stops the posteriors between episodes and evidence prefixes (a report whose statistics failed).</param>
    /// <param name="maxBytes">The truth's share of the page (<see cref="MaxBytes"/>; smaller in tests).</param>
    /// <param name="batchGroups">Episodes computed before the share is checked again (default <see cref="GroupsPerBatch"/> per core).</param>
    /// <param name="computedTrials">Told how many trials' posteriors each batch computed (for tests).</param>
    public static byte[]? Json(IReadOnlyList<ManifestTaskRef> tasks, IReadOnlyList<byte[]> transcripts, string? datasetsDirectory, List<string> notes,
        CancellationToken cancellation = default, int maxBytes = MaxBytes, int? batchGroups = null, Action<int>? computedTrials = null)
    {
        var trials = transcripts.Select(Parse).OfType<EmbeddedTrial>().ToList();
        if (trials.Count == 0)
        {
            return null;
        }
        TaskCatalog catalog;
        try
        {
            catalog = TaskCatalog.Locate(datasetsDirectory);
        }
        catch (InputException) when (datasetsDirectory is null)
        {
            // Only when looked for: a --datasets folder that does not exist is bad input.
            notes.Add("The episode browser shows no truth view: no datasets folder was found (pass --datasets).");
            return null;
        }
        var episodes = LoadEpisodes(catalog, tasks, trials.Select(t => (t.Task, t.Episode)).ToHashSet(), notes);
        if (episodes.Count == 0)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartObject("episodes");
            foreach (var ((task, id), (definition, episode)) in episodes.OrderBy(p => p.Key.Task, StringComparer.Ordinal).ThenBy(p => p.Key.Episode, StringComparer.Ordinal))
            {
                writer.WritePropertyName($"{task}/{id}");
                WriteEpisode(writer, episode);
            }
            writer.WriteEndObject();
            writer.WriteStartObject("trials");
            // Episodes a batch at a time, in the trials' order, and no further once the page's share is used: trials past
            // it get no posteriors, so theirs are not computed.
            bool Known(int i) => episodes.ContainsKey((trials[i].Task, trials[i].Episode));
            var groups = Enumerable.Range(0, trials.Count).Where(Known)
                .GroupBy(i => (trials[i].Task, trials[i].Episode)).Select(g => g.ToArray()).ToArray();
            var posteriors = new TrialPosteriors?[trials.Count];
            var computed = new bool[trials.Count];
            var next = 0;
            var skipped = 0;
            bool Full()
            {
                writer.Flush();
                return buffer.WrittenCount > maxBytes;
            }
            var batchSize = batchGroups ?? GroupsPerBatch * Environment.ProcessorCount;
            for (var b = 0; b < groups.Length && !Full(); b += batchSize)
            {
                var batch = new ArraySegment<int[]>(groups, b, Math.Min(batchSize, groups.Length - b));
                Compute(batch, trials, episodes, posteriors, cancellation);
                foreach (var i in batch.SelectMany(g => g))
                {
                    computed[i] = true;
                }
                computedTrials?.Invoke(batch.Sum(g => g.Length));
                for (; next < trials.Count && (!Known(next) || computed[next]); next++)
                {
                    if (!Known(next))
                    {
                        continue;
                    }
                    if (Full())
                    {
                        skipped++;
                        continue;
                    }
                    if (posteriors[next] is { } steps)
                    {
                        writer.WritePropertyName(trials[next].TrialId);
                        WritePosteriors(writer, steps);
                    }
                }
            }
            skipped += Enumerable.Range(next, trials.Count - next).Count(Known);
            writer.WriteEndObject();
            writer.WriteEndObject();
            if (skipped > 0)
            {
                notes.Add(string.Create(CultureInfo.InvariantCulture,
                    $"The truth view shows no posteriors for {skipped:N0} embedded trials: the page's share for them ({maxBytes >> 20} MB) was used up."));
            }
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// What the posteriors of these tasks' episodes need first and no trial decides: each causal-DAG family's enumeration
    /// (3,068,281 DAGs on 5 variables, about a second) and its prior with its top hypotheses, for the tasks whose split in
    /// the datasets is the one played (as <see cref="Json"/> finds them). The same values whoever computes them first; a
    /// task that cannot be read is left to <see cref="Json"/>, which says why.
    /// </summary>
    public static void Prepare(IReadOnlyList<ManifestTaskRef> tasks, string? datasetsDirectory, CancellationToken cancellation)
    {
        TaskCatalog catalog;
        try
        {
            catalog = TaskCatalog.Locate(datasetsDirectory);
        }
        catch (InputException)
        {
            return;
        }
        var known = catalog.TaskIds().ToHashSet(StringComparer.Ordinal);
        foreach (var task in tasks.Where(t => known.Contains(t.Id)))
        {
            cancellation.ThrowIfCancellationRequested();
            var definition = catalog.Load(task.Id);
            if (!TaskDefinition.IsDagFamily(definition.Family) || !IsPlayed(catalog, task, definition))
            {
                continue;
            }
            var generator = definition.Generator;
            var model = new ObserverModel([.. Enumerable.Range(0, generator.Variables).Select(SignedDagOptions.NameOf)], HiddenConfounder: false,
                generator.EdgeProbability, generator.NoiseSd);
            if (model.Validate() is null)
            {
                IdealObserver.PriorTop(model, TopHypotheses);
            }
        }
    }

    /// <summary>A task as a run recorded it: enough to find its split and check it is the one played.</summary>
    public sealed record ManifestTaskRef(string Id, int Version, string Split, string DatasetSha256);

    private sealed record EmbeddedTrial(string TrialId, string Task, string Episode, ImmutableArray<EmbeddedStep> Steps);

    private sealed record EmbeddedStep(int Index, string Phase, string Status, Intervention? Action, Dictionary<string, double>? Observation);

    private static EmbeddedTrial? Parse(byte[] json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!root.TryGetProperty("trial_id", out var id) || !root.TryGetProperty("task", out var task) || !root.TryGetProperty("episode", out var episode)
            || !root.TryGetProperty("steps", out var steps) || steps.ValueKind != JsonValueKind.Array
            || id.ValueKind != JsonValueKind.String || task.ValueKind != JsonValueKind.String || episode.ValueKind != JsonValueKind.String)
        {
            return null; // an errored trial (no steps) or another family's line: nothing to show
        }
        var parsed = ImmutableArray.CreateBuilder<EmbeddedStep>();
        foreach (var step in steps.EnumerateArray())
        {
            if (step.ValueKind != JsonValueKind.Object || !step.TryGetProperty("index", out var index) || index.ValueKind != JsonValueKind.Number
                || !step.TryGetProperty("phase", out var phase) || phase.ValueKind != JsonValueKind.String
                || !step.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
            {
                return null;
            }
            Intervention? action = null;
            if (step.TryGetProperty("action", out var a) && a.ValueKind == JsonValueKind.Object
                && a.TryGetProperty("variable", out var variable) && variable.ValueKind == JsonValueKind.String
                && a.TryGetProperty("value", out var value) && value.ValueKind == JsonValueKind.Number)
            {
                action = new Intervention(variable.GetString()!, value.GetDouble());
            }
            Dictionary<string, double>? observation = null;
            if (step.TryGetProperty("observation", out var o) && o.ValueKind == JsonValueKind.Object)
            {
                observation = new Dictionary<string, double>(StringComparer.Ordinal);
                foreach (var p in o.EnumerateObject())
                {
                    if (p.Value.ValueKind != JsonValueKind.Number)
                    {
                        return null;
                    }
                    observation[p.Name] = p.Value.GetDouble();
                }
            }
            parsed.Add(new EmbeddedStep(index.GetInt32(), phase.GetString()!, status.GetString()!, action, observation));
        }
        return new EmbeddedTrial(id.GetString()!, task.GetString()!, episode.GetString()!, parsed.ToImmutable());
    }

    /// <summary>The embedded causal-DAG episodes, from the splits whose sha256 matches what the runs played.</summary>
    private static Dictionary<(string Task, string Episode), (TaskDefinition Task, Episode Episode)> LoadEpisodes(
        TaskCatalog catalog, IReadOnlyList<ManifestTaskRef> tasks, HashSet<(string Task, string Episode)> wanted, List<string> notes)
    {
        var found = new Dictionary<(string, string), (TaskDefinition, Episode)>();
        var known = catalog.TaskIds().ToHashSet(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            if (!wanted.Any(w => w.Task == task.Id))
            {
                continue;
            }
            if (!known.Contains(task.Id))
            {
                notes.Add($"The truth view of {task.Id} is missing: the datasets folder has no such task.");
                continue;
            }
            var definition = catalog.Load(task.Id);
            if (!TaskDefinition.IsDagFamily(definition.Family))
            {
                continue;
            }
            if (!IsPlayed(catalog, task, definition))
            {
                notes.Add($"The truth view of {task.Id} is missing: the datasets folder's {task.Split} split is not the one the runs played (version or sha256 differs).");
                continue;
            }
            // Only the embedded episodes' lines are parsed.
            var ids = wanted.Where(w => w.Task == task.Id).Select(w => w.Episode).ToHashSet(StringComparer.Ordinal);
            foreach (var episode in catalog.LoadSplit(task.Id, task.Split, ids))
            {
                found[(task.Id, episode.Id)] = (definition, episode);
            }
        }
        return found;
    }

    /// <summary>Whether the datasets hold the split the runs played of this task: the same version and sha256.</summary>
    private static bool IsPlayed(TaskCatalog catalog, ManifestTaskRef task, TaskDefinition definition)
    {
        var path = catalog.SplitPath(task.Id, task.Split);
        return definition.Version == task.Version && File.Exists(path)
            && string.Equals(TaskCatalog.Sha256(path), task.DatasetSha256, StringComparison.OrdinalIgnoreCase);
    }

    private static void WriteEpisode(Utf8JsonWriter writer, Episode episode)
    {
        var world = episode.World;
        writer.WriteStartObject();
        writer.WriteStartArray("variables");
        foreach (var v in world.Variables)
        {
            writer.WriteStringValue(v);
        }
        writer.WriteEndArray();
        writer.WriteStartArray("hidden");
        foreach (var v in world.Hidden)
        {
            writer.WriteStringValue(v);
        }
        writer.WriteEndArray();
        writer.WriteStartArray("edges");
        foreach (var edge in world.Edges)
        {
            writer.WriteStartArray();
            writer.WriteStringValue(edge.From);
            writer.WriteStringValue(edge.To);
            writer.WriteNumberValue(edge.Weight);
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        writer.WriteString("target", episode.Target);
        // TE[from→to] between observables, rows in variable order (what the agent could learn by intervening).
        writer.WriteStartArray("observable");
        foreach (var v in world.Observable)
        {
            writer.WriteStringValue(v);
        }
        writer.WriteEndArray();
        writer.WriteStartArray("total_effects");
        foreach (var from in world.Observable)
        {
            writer.WriteStartArray();
            foreach (var to in world.Observable)
            {
                writer.WriteNumberValue(from == to ? 0 : world.TotalEffect(from, to) + 0.0);
            }
            writer.WriteEndArray();
        }
        writer.WriteEndArray();
        WriteActions(writer, "actions", episode.Solution.Actions);
        WriteActions(writer, "optimal", episode.Solution.Optimal);
        writer.WriteEndObject();
    }

    private static void WriteActions(Utf8JsonWriter writer, string name, ImmutableArray<Core.Oracle.ScoredAction> actions)
    {
        writer.WriteStartArray(name);
        foreach (var a in actions)
        {
            writer.WriteStartObject();
            writer.WriteString("variable", a.Action.Variable);
            writer.WriteNumber("value", a.Action.Value);
            writer.WriteNumber("expected", a.Expected);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    /// <summary>Episodes per core whose posteriors are computed before the page's share is checked again.</summary>
    internal const int GroupsPerBatch = 4;

    /// <summary>
    /// The posteriors of the trials of a batch of episodes, by index. An episode's trials go to one worker together (they
    /// share its evidence prefixes, <see cref="EpisodePosteriors"/>), episodes run side by side on every core; a
    /// posterior is computed the same way whatever else is computed, so the page is the same bytes at any parallelism.
    /// </summary>
    private static void Compute(ArraySegment<int[]> groups, List<EmbeddedTrial> trials,
        Dictionary<(string Task, string Episode), (TaskDefinition Task, Episode Episode)> episodes, TrialPosteriors?[] results, CancellationToken cancellation)
    {
        try
        {
            Parallel.ForEach(groups, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount, CancellationToken = cancellation }, group =>
            {
                var (task, episode) = episodes[(trials[group[0]].Task, trials[group[0]].Episode)];
                var posteriors = EpisodePosteriors(task, episode, [.. group.Select(i => trials[i])], cancellation);
                for (var k = 0; k < group.Length; k++)
                {
                    results[group[k]] = posteriors[k];
                }
            });
        }
        catch (AggregateException failed) when (failed.InnerExceptions.Count == 1)
        {
            ExceptionDispatchInfo.Throw(failed.InnerExceptions[0]); // as the sequential loop would have thrown it
        }
    }

    /// <summary>
    /// For each trial of one episode: the most probable hypotheses before each explore step and after the last (for a
    /// passive task: given the shown evidence), each with the number of the trial's own experiments seen; null when the
    /// trial's evidence cannot be read back or one of its posteriors would be a hidden-root pass that was not precomputed
    /// (seconds each). The trials' evidence prefixes form a tree (trials that made the same experiments saw the same
    /// observations); it is walked depth first, each posterior computed once from its parent's and dropped with its
    /// subtree, so an episode holds only the posteriors of one path at a time (a cache of every episode's held up to 64 MB
    /// it never read again: episodes do not share evidence).
    /// </summary>
    private static TrialPosteriors?[] EpisodePosteriors(TaskDefinition task, Episode episode, IReadOnlyList<EmbeddedTrial> trials, CancellationToken cancellation)
    {
        var results = new TrialPosteriors?[trials.Count];
        var brief = episode.Brief;
        var model = ObserverModel.For(task, brief);
        if (model.Validate() is not null)
        {
            return results;
        }
        var shown = brief.Evidence?.Samples ?? [];
        var root = new EvidenceNode([.. shown]);
        var paths = new List<(int? BeforeStep, int Experiments, EvidenceNode Node)>?[trials.Count];
        for (var t = 0; t < trials.Count; t++)
        {
            paths[t] = TrialPath(trials[t]);
        }
        Visit(root, () => throw new InvalidOperationException("the shown evidence has no prefix to update"));
        for (var t = 0; t < trials.Count; t++)
        {
            if (paths[t] is { } path && path.All(p => p.Node.Top is not null))
            {
                results[t] = [.. path.Select(p => (p.BeforeStep, p.Experiments, p.Node.Top!.Value))];
            }
        }
        return results;

        // The trial's nodes: the evidence before each explore step, then after the last; null when it cannot be read back.
        List<(int?, int, EvidenceNode)>? TrialPath(EmbeddedTrial trial)
        {
            var path = new List<(int?, int, EvidenceNode)>();
            var node = root;
            var experiments = 0;
            foreach (var step in trial.Steps.Where(s => s.Phase == "explore"))
            {
                path.Add((step.Index, experiments, node.Asked()));
                if (step is { Status: "valid", Action: { } action, Observation: { } observation })
                {
                    var values = ImmutableArray.CreateBuilder<double>(brief.Variables.Length);
                    foreach (var v in brief.Variables)
                    {
                        if (!observation.TryGetValue(v, out var x))
                        {
                            return null;
                        }
                        values.Add(x);
                    }
                    node = node.Child(model, new EvidenceSample(action, values.MoveToImmutable()));
                    experiments++;
                }
            }
            path.Add((null, experiments, node.Asked()));
            return path;
        }

        // The node's top hypotheses (when asked) and its subtree's; its posterior is computed only when it or a child needs it.
        void Visit(EvidenceNode node, Func<Posterior> parent)
        {
            cancellation.ThrowIfCancellationRequested();
            Posterior? posterior = null;
            Posterior Own() => posterior ??= ObserverCache.Extend(model, node.Samples, shown.Length, parent);
            try
            {
                if (node.IsAsked && !(model.HiddenConfounder && node.Samples.Count > 0 && !ObserverCache.IsPrecomputed(model, node.Samples)))
                {
                    node.Top = ObserverCache.IsPrecomputed(model, node.Samples) ? ObserverCache.Top(model, node.Samples, shown.Length, TopHypotheses)
                        // The prior's top hypotheses without its arrays (a posterior one sample long is a pass of its own, not an update of the prior).
                        : node.Samples.Count == 0 ? IdealObserver.PriorTop(model, TopHypotheses)
                        : Own().Top(TopHypotheses);
                }
            }
            catch (ArgumentException)
            {
                return; // evidence the family cannot hold (an unknown variable in an edited line): no posterior below either
            }
            for (var c = 0; c < node.Children.Count; c++)
            {
                // The last child takes this node's posterior when it asks for it: from then on nothing here reads it, so the
                // path down holds the posteriors of nodes with children still to visit, not every one above.
                Visit(node.Children[c], c < node.Children.Count - 1 ? Own : () =>
                {
                    var own = Own();
                    posterior = null;
                    return own;
                });
            }
        }
    }

    /// <summary>One evidence prefix of an episode's embedded trials: its samples, the prefixes one sample longer, its top hypotheses.</summary>
    private sealed class EvidenceNode(List<EvidenceSample> samples)
    {
        private readonly Dictionary<string, EvidenceNode> _children = new(StringComparer.Ordinal);

        public List<EvidenceSample> Samples { get; } = samples;

        /// <summary>The longer prefixes in the order the trials reached them.</summary>
        public List<EvidenceNode> Children { get; } = [];

        /// <summary>Whether some trial shows this node's top hypotheses.</summary>
        public bool IsAsked { get; private set; }

        public ImmutableArray<WeightedHypothesis>? Top { get; set; }

        public EvidenceNode Asked()
        {
            IsAsked = true;
            return this;
        }

        public EvidenceNode Child(ObserverModel model, EvidenceSample sample)
        {
            var key = ObserverCache.Key(model, [sample]);
            if (!_children.TryGetValue(key, out var child))
            {
                _children[key] = child = new EvidenceNode([.. Samples, sample]);
                Children.Add(child);
            }
            return child;
        }
    }

    private static void WritePosteriors(Utf8JsonWriter writer, TrialPosteriors steps)
    {
        writer.WriteStartArray();
        foreach (var (before, experiments, top) in steps)
        {
            writer.WriteStartObject();
            if (before is { } index)
            {
                writer.WriteNumber("before_step", index);
            }
            else
            {
                writer.WriteNull("before_step");
            }
            writer.WriteNumber("experiments", experiments);
            writer.WriteStartArray("top");
            foreach (var h in top)
            {
                writer.WriteStartObject();
                // Four significant digits: the prior's most probable DAGs carry well under 0.001 each.
                writer.WriteNumber("p", double.Parse(h.Probability.ToString("G4", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture));
                writer.WriteStartArray("edges");
                foreach (var e in h.Edges)
                {
                    writer.WriteStringValue(string.Create(CultureInfo.InvariantCulture, $"{e.From}>{e.To}{(e.Weight > 0 ? "+" : "-")}"));
                }
                writer.WriteEndArray();
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }
}
