using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CausalEval.Core.Episodes;
using CausalEval.Core.Json;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Inference;

/// <summary>
/// Posteriors shared across a process: every agent of an episode that saw the same evidence (the same experiments give
/// the same observations, since noise depends on the episode) gets the same posterior, and a posterior one sample longer
/// is an update of the cached shorter one. Passive splits can ship precomputed summaries (<c>observer-&lt;split&gt;.jsonl</c>
/// next to the split, keyed by episode id and evidence hash), which are used instead of the hidden root's seconds-long pass.
/// </summary>
public static class ObserverCache
{
    /// <summary>
    /// Posteriors are evicted oldest first once their arrays take more than this together. Counted in bytes, not DAGs: a
    /// kept DAG carries its parent codes and outcome ids too (27 bytes on 5 variables), and a count of DAGs let a
    /// report's truth view hold a quarter of a gigabyte. Ten first-sample posteriors fit; runs play an episode's trials
    /// side by side (plan order), so what agents share is recent.
    /// </summary>
    internal const long MaxCachedBytes = 64L << 20;

    private static readonly ConcurrentDictionary<string, Lazy<Posterior>> Posteriors = new(StringComparer.Ordinal);
    private static readonly ConcurrentQueue<string> Order = new();
    private static readonly ConcurrentDictionary<string, PosteriorSummary> Precomputed = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, bool> LoadedFiles = new(StringComparer.Ordinal);
    private static long _cachedBytes;

    /// <summary>Cores one posterior pass uses: one, because runs already play trials in parallel.</summary>
    private const int Threads = 1;

    /// <summary>The file of precomputed summaries next to a split file (<c>test.jsonl</c> → <c>observer-test.jsonl</c>).</summary>
    public static string PrecomputedPath(string splitPath)
        => Path.Combine(Path.GetDirectoryName(splitPath) ?? ".", "observer-" + Path.GetFileName(splitPath));

    /// <summary>A canonical text of the family and the samples (values in round-trip form).</summary>
    public static string Key(ObserverModel model, IReadOnlyList<EvidenceSample> samples)
    {
        var text = new StringBuilder();
        text.Append(string.Join(",", model.Variables)).Append('|').Append(model.HiddenConfounder ? 'h' : 'o').Append('|')
            .Append(model.EdgeProbability.ToString("R", CultureInfo.InvariantCulture)).Append('|')
            .Append(model.NoiseSd.ToString("R", CultureInfo.InvariantCulture));
        foreach (var sample in samples)
        {
            text.Append(';');
            if (sample.Intervention is { } action)
            {
                text.Append(action.Variable).Append('=').Append(action.Value.ToString("R", CultureInfo.InvariantCulture));
            }
            text.Append(':');
            foreach (var value in sample.Values)
            {
                text.Append(value.ToString("R", CultureInfo.InvariantCulture)).Append(',');
            }
        }
        return text.ToString();
    }

    /// <summary>The evidence hash precomputed summaries are keyed by: sha256 of <see cref="Key"/>, 16 hex digits.</summary>
    public static string Hash(ObserverModel model, IReadOnlyList<EvidenceSample> samples)
        => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Key(model, samples))))[..16];

    /// <summary>The posterior summary for this evidence: precomputed when shipped, else from the (cached) posterior.</summary>
    /// <param name="shown">How many of the samples came at once (an episode's passive evidence; see <see cref="Posterior"/>).</param>
    public static PosteriorSummary Summary(ObserverModel model, IReadOnlyList<EvidenceSample> samples, int shown = 0)
    {
        if (!Precomputed.IsEmpty && Precomputed.TryGetValue(Hash(model, samples), out var shipped))
        {
            return shipped;
        }
        return Posterior(model, samples, shown).Summary();
    }

    /// <summary>The information of each experiment for this evidence: precomputed when shipped, else from the (cached) posterior.</summary>
    public static InformationTable Information(ObserverModel model, IReadOnlyList<EvidenceSample> samples, int shown = 0)
    {
        if (!Precomputed.IsEmpty && Precomputed.TryGetValue(Hash(model, samples), out var shipped))
        {
            return shipped.Informations;
        }
        return Posterior(model, samples, shown).InformationTable();
    }

    /// <summary>
    /// The exploit expectations for this evidence: precomputed when shipped, else from the (cached) posterior, which
    /// averages only the target's total effects unless its summary is already computed (the same values either way).
    /// </summary>
    public static Oracle.Solution Exploit(ObserverModel model, IReadOnlyList<EvidenceSample> samples, int shown,
        string target, IEnumerable<string> variables, IReadOnlyList<double> values)
    {
        if (!Precomputed.IsEmpty && Precomputed.TryGetValue(Hash(model, samples), out var shipped))
        {
            return shipped.Exploit(target, variables, values);
        }
        return Posterior(model, samples, shown).Exploit(target, variables, values);
    }

    /// <summary>Whether this evidence's summary was shipped precomputed (no posterior pass needed).</summary>
    public static bool IsPrecomputed(ObserverModel model, IReadOnlyList<EvidenceSample> samples)
        => !Precomputed.IsEmpty && Precomputed.ContainsKey(Hash(model, samples));

    /// <summary>The <paramref name="count"/> most probable hypotheses for this evidence (at most the precomputed five when shipped).</summary>
    public static ImmutableArray<WeightedHypothesis> Top(ObserverModel model, IReadOnlyList<EvidenceSample> samples, int shown, int count)
    {
        if (!Precomputed.IsEmpty && Precomputed.TryGetValue(Hash(model, samples), out var shipped))
        {
            return [.. shipped.Top.Take(count)];
        }
        return Posterior(model, samples, shown).Top(count);
    }

    /// <summary>
    /// The exact posterior, shared. It is always computed the same way, whatever the cache holds, so that a run's scores
    /// do not depend on scheduling: the first <c>max(1, shown)</c> samples in one pass, then one update per further sample
    /// (each an update of the cached posterior of all samples but the last, computed first when it is not cached).
    /// </summary>
    public static Posterior Posterior(ObserverModel model, IReadOnlyList<EvidenceSample> samples, int shown = 0)
    {
        if (samples.Count == 0)
        {
            return IdealObserver.Infer(model, [], Threads); // the prior is cached by the engine
        }
        var first = Math.Clamp(shown, 1, samples.Count);
        var key = Key(model, samples) + "#" + first.ToString(CultureInfo.InvariantCulture);
        var created = false;
        var lazy = Posteriors.GetOrAdd(key, _ =>
        {
            created = true;
            return new Lazy<Posterior>(() => Extend(model, samples, first, () => Posterior(model, samples.Take(samples.Count - 1).ToArray(), first)),
                LazyThreadSafetyMode.ExecutionAndPublication);
        });
        var posterior = lazy.Value;
        if (created)
        {
            Order.Enqueue(key);
            Interlocked.Add(ref _cachedBytes, posterior.ResidentBytes);
            Evict();
        }
        return posterior;
    }

    /// <summary>
    /// The posterior of these samples computed the one way <see cref="Posterior(ObserverModel, IReadOnlyList{EvidenceSample}, int)"/>
    /// computes it, given the posterior of all samples but the last (<paramref name="prefix"/>, asked for only when it is
    /// needed): the prior, or the first <c>max(1, shown)</c> samples (every sample with a hidden root) in one pass, else an
    /// update of the prefix's. For callers that keep their own posteriors (a report's episode at a time); the same values.
    /// </summary>
    public static Posterior Extend(ObserverModel model, IReadOnlyList<EvidenceSample> samples, int shown, Func<Posterior> prefix)
    {
        if (model.HiddenConfounder || samples.Count <= Math.Max(1, shown))
        {
            return IdealObserver.Infer(model, samples, Threads);
        }
        return prefix().Update(samples[^1], Threads);
    }

    /// <summary>What the cached posteriors' arrays take together, as counted for eviction (for tests).</summary>
    internal static long CachedBytes => Interlocked.Read(ref _cachedBytes);

    private static void Evict()
    {
        while (Interlocked.Read(ref _cachedBytes) > MaxCachedBytes && Order.TryDequeue(out var oldest))
        {
            if (Posteriors.TryRemove(oldest, out var gone) && gone.IsValueCreated)
            {
                Interlocked.Add(ref _cachedBytes, -gone.Value.ResidentBytes);
            }
        }
    }

    /// <summary>Registers the precomputed summaries of a split file, once per file (no file: nothing to do).</summary>
    public static void LoadPrecomputed(string splitPath)
    {
        var path = PrecomputedPath(splitPath);
        if (!File.Exists(path) || !LoadedFiles.TryAdd(Path.GetFullPath(path), true))
        {
            return;
        }
        foreach (var (_, hash, summary) in ReadFile(path))
        {
            Precomputed[hash] = summary;
        }
    }

    /// <summary>Reads a precomputed file: (episode id, evidence hash, summary) per line; a malformed line is bad input.</summary>
    public static IEnumerable<(string Episode, string Hash, PosteriorSummary Summary)> ReadFile(string path)
    {
        var number = 0;
        foreach (var text in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }
            var source = $"{path}:{number}";
            var line = JsonInput.Deserialize(source, text, CoreJsonContext.Default.ObserverLine);
            var top = JsonInput.NoNullItems(line.Top, source, "top")
                .Select(h => new WeightedHypothesis([.. h.Edges.Select(e => new Edge(e.From, e.To, e.Weight))], h.Probability)).ToImmutableArray();
            var summary = new PosteriorSummary(
                [.. JsonInput.NoNullItems(line.Variables, source, "variables")], [.. line.ExpectedEffects], [.. line.Information], line.LogEvidence, top);
            yield return (line.Episode, line.Evidence, summary);
        }
    }

    /// <summary>One line of a precomputed file (<see cref="ObserverLine"/>).</summary>
    public static string ToLine(string episodeId, string hash, PosteriorSummary summary) => JsonInput.ToLine(
        new ObserverLine(episodeId, hash, summary.Variables, summary.ExpectedEffects, summary.InformationBits, summary.LogEvidence,
            [.. summary.Top.Select(h => new ObserverLine.TopHypothesis(h.Probability, [.. h.Edges.Select(e => new ObserverLine.EdgeTriple(e.From, e.To, e.Weight))]))]),
        CoreJsonContext.Default.ObserverLine);
}
