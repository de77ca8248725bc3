using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CausalEval.Core.Episodes;
using CausalEval.Core.Oracle;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Inference;

/// <summary>An experiment with the entropy (bits) of its noise-free outcome under the posterior predictive.</summary>
public sealed record ScoredExperiment(Intervention Experiment, double Bits);

/// <summary>A hypothesis (signed DAG over the observables) with its posterior probability.</summary>
public sealed record WeightedHypothesis(ImmutableArray<Edge> Edges, double Probability);

/// <summary>
/// The ideal observer's posterior over the signed DAGs of a family (marginal over the hidden root's weights), with
/// what follows from it: exploit expectations, the information of experiments and the most probable hypotheses.
/// Immutable; <see cref="Update"/> returns the posterior after one more sample.
/// </summary>
public sealed class Posterior
{
    private readonly int[] _dags; // in id order; a DAG an update dropped may stay at probability 0 (see Create)
    private readonly double[] _probabilities; // [i] of _dags[i]
    private readonly double _logNeglect;
    private readonly double _relativeNeglect;
    private PosteriorSummary? _summary;
    // Row i: the n parent codes / outcome ids of _dags[i], gathered from the family's arrays once and handed on to the
    // posteriors updated from this one, so updates and information passes read them in order instead of one scattered
    // row of the family's megabytes per DAG (bit for bit the same values).
    private byte[]? _codes;
    private ushort[]? _outcomes;
    private InformationTable? _information;
    private ImmutableArray<WeightedHypothesis>? _top;

    private Posterior(ObserverModel model, DagFamily family, ImmutableArray<Observation> observations, int[] dags,
        double[] probabilities, int support, double logEvidence, double logNeglect, double relativeNeglect)
    {
        Support = support;
        Model = model;
        Family = family;
        Observations = observations;
        _dags = dags;
        _probabilities = probabilities;
        LogEvidence = logEvidence;
        _logNeglect = logNeglect;
        _relativeNeglect = relativeNeglect;
    }

    public ObserverModel Model { get; }

    internal DagFamily Family { get; }

    internal ImmutableArray<Observation> Observations { get; }

    /// <summary>Natural log of the evidence's marginal density under the family (0 without samples).</summary>
    public double LogEvidence { get; }

    /// <summary>Upper bound on the posterior mass left out by pruning (below <see cref="IdealObserver.NeglectTolerance"/>).</summary>
    public double NeglectedMass => Math.Exp(_logNeglect - LogEvidence) + _relativeNeglect;

    /// <summary>DAGs kept (the others carry at most <see cref="NeglectedMass"/> together).</summary>
    public int Support { get; }

    /// <summary>Entries stored: <see cref="Support"/> plus the DAGs an update dropped without compacting (for tests).</summary>
    internal int Stored => _dags.Length;

    /// <summary>
    /// The bytes this posterior's arrays take or will take once its rows are gathered: per stored DAG its id, probability,
    /// parent codes and outcome ids. An upper bound (an update that drops few DAGs shares its parent's ids), fixed at
    /// creation so that the cache adds and removes the same amount.
    /// </summary>
    internal long ResidentBytes => (long)_dags.Length * (sizeof(int) + sizeof(double) + 3 * Family.Variables);

    /// <summary>Total number of hypotheses of the family (DAGs × root weight vectors).</summary>
    public long Hypotheses => Model.Hypotheses;

    /// <remarks>
    /// Takes ownership of <paramref name="logWeights"/> (its storage becomes the probabilities) and never writes to
    /// <paramref name="dags"/>, which an update shares with the posterior it updates: on a broad posterior these arrays
    /// are millions long, and copies of them were most of the memory a report's truth view held.
    /// </remarks>
    internal static Posterior Create(ObserverModel model, DagFamily family, ImmutableArray<Observation> observations,
        int[] dags, double[] logWeights, double logNeglect, double relativeNeglect, byte[]? codes = null, ushort[]? outcomes = null,
        double? knownMax = null)
    {
        // The largest log weight (order does not matter to a maximum: a caller that found it already passes it).
        var max = double.NegativeInfinity;
        if (knownMax is { } found)
        {
            max = found;
        }
        else
        {
            foreach (var lw in logWeights)
            {
                max = Math.Max(max, lw);
            }
        }
        if (double.IsNegativeInfinity(max))
        {
            throw new InvalidOperationException("the evidence has zero density under every hypothesis");
        }
        var floor = max - IdealObserver.KeepMargin;
        var kept = 0;
        foreach (var lw in logWeights)
        {
            if (lw >= floor)
            {
                kept++;
            }
        }
        // When an update drops few DAGs (its usual case) the arrays stay shared and a dropped DAG keeps its place at
        // probability exactly 0, which adds exactly nothing to any sum: the same numbers as compacted, without copying
        // megabytes. Many dropped: the kept ones are compacted.
        var compact = kept < dags.Length - dags.Length / 8;
        var keptDags = compact ? new int[kept] : dags;
        var n = family.Variables;
        var keptCodes = compact && codes is not null ? new byte[kept * n] : codes;
        var keptOutcomes = compact && outcomes is not null ? new ushort[kept * n] : outcomes;
        var sum = 0.0;
        var at = 0;
        for (var i = 0; i < logWeights.Length; i++)
        {
            if (logWeights[i] < floor)
            {
                logNeglect = IdealObserver.LogAdd(logNeglect, logWeights[i]);
                if (!compact)
                {
                    logWeights[i] = 0;
                }
                continue;
            }
            var w = Math.Exp(logWeights[i] - max);
            if (compact)
            {
                keptDags[at] = dags[i];
                CopyRow(codes, i, keptCodes, at, n);
                CopyRow(outcomes, i, keptOutcomes, at, n);
                logWeights[at++] = w; // at ≤ i: compacting in place reads nothing not yet read
            }
            else
            {
                logWeights[i] = w;
            }
            sum += w;
        }
        // Compacted, the array is cut to length: a cached narrow posterior must not hold its broad parent's length.
        var probabilities = compact ? logWeights[..kept] : logWeights;
        for (var i = 0; i < probabilities.Length; i++)
        {
            probabilities[i] /= sum;
        }
        var logEvidence = max + Math.Log(sum);
        var posterior = new Posterior(model, family, observations, keptDags, probabilities, kept, logEvidence, logNeglect, relativeNeglect)
        {
            _codes = keptCodes,
            _outcomes = keptOutcomes,
        };
        if (posterior.NeglectedMass >= IdealObserver.NeglectTolerance)
        {
            throw new InvalidOperationException($"pruning neglected up to {posterior.NeglectedMass:g3} of the posterior mass");
        }
        return posterior;
    }

    /// <summary>
    /// The same posterior for a model that may differ in names and the hidden root (the shared prior): with the same
    /// names the summary (a pass over every DAG of the family) is reused.
    /// </summary>
    internal Posterior WithModel(ObserverModel model)
    {
        if (model == Model)
        {
            return this;
        }
        var copy = new Posterior(model, Family, Observations, _dags, _probabilities, Support, LogEvidence, _logNeglect, _relativeNeglect)
        {
            _codes = _codes,
            _outcomes = _outcomes,
        };
        if (model.Variables.SequenceEqual(Model.Variables))
        {
            copy._summary = Summary();
            copy._information = InformationTable();
            copy._top = _top;
        }
        return copy;
    }

    /// <summary>
    /// The posterior after one more sample. Without a hidden root a small posterior is updated in place: every DAG left
    /// out so far is bounded by its weight times the best likelihood any DAG can give the new sample, and when that
    /// bound would exceed the tolerance the posterior is recomputed from all samples.
    /// </summary>
    public Posterior Update(EvidenceSample sample, int threads = 1)
    {
        var observation = Observation.From(Model, sample);
        var observations = Observations.Add(observation);
        if (Model.HiddenConfounder || _dags.Length > IdealObserver.IncrementalLimit)
        {
            return IdealObserver.Infer(Model, ToSamples(observations), threads);
        }
        var table = IdealObserver.LocalTerms(Family, [observation], Model.NoiseSd);
        var n = Family.Variables;
        var codesPerNode = Family.CodesPerNode;
        var bestNew = 0.0;
        for (var j = 0; j < n; j++)
        {
            var best = double.NegativeInfinity;
            for (var c = 0; c < codesPerNode; c++)
            {
                best = Math.Max(best, table[j * codesPerNode + c]);
            }
            bestNew += best;
        }
        var codes = Rows(ref _codes, Family.Codes);
        var logWeights = new double[_dags.Length];
        // The logarithms in a loop of their own, then the sums in one without calls, so that the additions of many DAGs
        // overlap: the same operations on the same values in the same order as (log p + log evidence) + t_0 + … + t_n−1.
        var probabilities = _probabilities.AsSpan(0, logWeights.Length);
        for (var i = 0; i < probabilities.Length; i++)
        {
            logWeights[i] = Math.Log(probabilities[i]);
        }
        var max = AddTerms(logWeights, codes, table, n, codesPerNode, LogEvidence);
        try
        {
            return Create(Model, Family, observations, _dags, logWeights, _logNeglect + bestNew, _relativeNeglect, codes, _outcomes, max);
        }
        catch (InvalidOperationException)
        {
            // The left-out DAGs might matter now (or none kept explains the sample): start again from all samples.
            return IdealObserver.Infer(Model, ToSamples(observations), threads);
        }
    }

    /// <summary>
    /// (A parent code is below CodesPerNode by the family's construction, so the table is read without bounds checks.)
    /// logWeights[i] = ((logWeights[i] + logEvidence) + table[0, code_0]) + … + table[n − 1, code_n−1] for row i of
    /// <paramref name="codes"/>, added in that order; returns the largest (what <see cref="Create"/> would find).
    /// </summary>
    private static double AddTerms(double[] logWeights, byte[] codes, double[] table, int n, int codesPerNode, double logEvidence)
    {
        if (codes.Length < logWeights.Length * n || table.Length < n * codesPerNode)
        {
            throw new ArgumentException("a row of codes or the table is short");
        }
        ref var weight = ref MemoryMarshal.GetArrayDataReference(logWeights);
        ref var code = ref MemoryMarshal.GetArrayDataReference(codes);
        ref var terms = ref MemoryMarshal.GetArrayDataReference(table);
        var max = double.NegativeInfinity;
        var count = logWeights.Length;
        if (n == 5)
        {
            // The observer's usual family, unrolled (the same additions in the same order as below).
            ref var t1 = ref Unsafe.Add(ref terms, codesPerNode);
            ref var t2 = ref Unsafe.Add(ref terms, 2 * codesPerNode);
            ref var t3 = ref Unsafe.Add(ref terms, 3 * codesPerNode);
            ref var t4 = ref Unsafe.Add(ref terms, 4 * codesPerNode);
            for (var i = 0; i < count; i++)
            {
                ref var row = ref Unsafe.Add(ref code, i * 5);
                var lw = Unsafe.Add(ref weight, i) + logEvidence;
                lw += Unsafe.Add(ref terms, Unsafe.Add(ref row, 0));
                lw += Unsafe.Add(ref t1, Unsafe.Add(ref row, 1));
                lw += Unsafe.Add(ref t2, Unsafe.Add(ref row, 2));
                lw += Unsafe.Add(ref t3, Unsafe.Add(ref row, 3));
                lw += Unsafe.Add(ref t4, Unsafe.Add(ref row, 4));
                Unsafe.Add(ref weight, i) = lw;
                max = Math.Max(max, lw);
            }
            return max;
        }
        for (var i = 0; i < count; i++)
        {
            ref var row = ref Unsafe.Add(ref code, i * n);
            var lw = Unsafe.Add(ref weight, i) + logEvidence;
            for (var j = 0; j < n; j++)
            {
                lw += Unsafe.Add(ref terms, j * codesPerNode + Unsafe.Add(ref row, j));
            }
            Unsafe.Add(ref weight, i) = lw;
            max = Math.Max(max, lw);
        }
        return max;
    }

    /// <summary>The kept DAGs' rows of a per-DAG family array (n entries per DAG), gathered on first use.</summary>
    private T[] Rows<T>(ref T[]? rows, T[] perDag)
    {
        if (rows is { } done)
        {
            return done;
        }
        if (_dags.Length == Family.Count)
        {
            return rows = perDag; // every DAG, in id order: the family's own array
        }
        var n = Family.Variables;
        var gathered = new T[_dags.Length * n];
        var dags = _dags;
        foreach (var dag in dags)
        {
            if ((uint)dag >= (uint)Family.Count)
            {
                throw new InvalidOperationException($"DAG id {dag} is not in the family");
            }
        }
        // Element by element without bounds checks (the ids were checked above): a memmove call per five entries cost more.
        ref var source = ref MemoryMarshal.GetArrayDataReference(perDag);
        ref var target = ref MemoryMarshal.GetArrayDataReference(gathered);
        for (var i = 0; i < dags.Length; i++)
        {
            ref var from = ref Unsafe.Add(ref source, dags[i] * n);
            ref var to = ref Unsafe.Add(ref target, i * n);
            for (var k = 0; k < n; k++)
            {
                Unsafe.Add(ref to, k) = Unsafe.Add(ref from, k);
            }
        }
        return rows = gathered;
    }

    /// <summary>Row <paramref name="from"/> of n entries to row <paramref name="to"/> (element by element: a memmove call per five bytes cost more).</summary>
    private static void CopyRow<T>(T[]? source, int from, T[]? target, int to, int n)
    {
        if (source is null || target is null)
        {
            return;
        }
        for (var k = 0; k < n; k++)
        {
            target[to * n + k] = source[from * n + k];
        }
    }

    private ImmutableArray<EvidenceSample> ToSamples(ImmutableArray<Observation> observations)
        => [.. observations.Select(o => new EvidenceSample(
            o.Intervened < 0 ? null : new Intervention(Model.Variables[o.Intervened], o.Values[o.Intervened]),
            [.. o.Values]))];

    /// <summary>The kept DAGs in id order with their probabilities (for tests that recompute a posterior's numbers).</summary>
    internal IEnumerable<(int Dag, double Probability)> Kept()
    {
        for (var i = 0; i < _dags.Length; i++)
        {
            if (_probabilities[i] > 0)
            {
                yield return (_dags[i], _probabilities[i]);
            }
        }
    }

    /// <summary>Posterior mean of TE[cause→effect].</summary>
    public double ExpectedEffect(int cause, int effect) => Summary().ExpectedEffect(cause, effect);

    /// <summary>Posterior expectation of the target under each allowed action, and every maximiser (ties as the oracle's).</summary>
    /// <remarks>
    /// Without a summary already computed this averages only the target's column of total effects (the scorer's final
    /// step needs nothing else): the same sums in the same order as <see cref="Summary"/>'s, so the same values.
    /// </remarks>
    public Solution Exploit(string target, IEnumerable<string> variables, IReadOnlyList<double> values)
    {
        if (_summary is { } summary)
        {
            return summary.Exploit(target, variables, values);
        }
        var column = EffectsOn(Inference.InformationTable.IndexOf(Model.Variables, target));
        return PosteriorSummary.Exploit(Model.Variables, target, variables, values, x => column[x]);
    }

    /// <summary>
    /// Entropy in bits of the posterior predictive over the noise-free outcome of <c>do(variable = value)</c>: the
    /// vector value·TE[variable→Y] over the other observables (a nonzero value only rescales it, so the partition of
    /// hypotheses into outcomes — and the entropy — is the same for every nonzero value).
    /// </summary>
    public double Information(string variable, double value) => InformationTable().Information(variable, value);

    /// <summary>Every experiment with its information, and every maximiser (ties within the oracle's tolerance).</summary>
    public (ImmutableArray<ScoredExperiment> All, ImmutableArray<ScoredExperiment> Best) Experiments(
        IEnumerable<string> variables, IReadOnlyList<double> values)
        => InformationTable().Experiments(variables, values);

    /// <summary>The posterior's means, informations, evidence and top hypotheses (computed once).</summary>
    public PosteriorSummary Summary()
    {
        if (_summary is { } done)
        {
            return done;
        }
        var effects = Effects();
        var summary = new PosteriorSummary(Model.Variables, [.. effects], InformationTable().Bits, LogEvidence, Top(PosteriorSummary.TopCount));
        _summary = summary;
        return summary;
    }

    /// <summary>
    /// The information of an experiment on each variable (computed once): one pass adding each kept DAG's mass to its
    /// outcome per variable, without the total effects a <see cref="Summary"/> also averages (what explore decisions and
    /// their scores need, at a fraction of the cost on a broad posterior).
    /// </summary>
    public InformationTable InformationTable()
    {
        if (_information is { } done)
        {
            return done;
        }
        var table = new InformationTable(Model.Variables, [.. Bits()]);
        _information = table;
        return table;
    }

    /// <summary>
    /// The posterior mean of every TE[x→t] ([x·n + t], 0 on the diagonal): one pass over the kept DAGs in id order, so the
    /// family's arrays are read forwards.
    /// </summary>
    private double[] Effects()
    {
        var n = Family.Variables;
        var cells = n * n;
        var effects = Family.Effects;
        var sums = new double[cells];
        for (var i = 0; i < _dags.Length; i++)
        {
            var p = _probabilities[i];
            var start = (long)_dags[i] * cells;
            for (var k = 0; k < cells; k++)
            {
                sums[k] += p * effects[start + k];
            }
        }
        for (var k = 0; k < cells; k++)
        {
            sums[k] = k / n == k % n ? 0 : sums[k] + 0.0;
        }
        return sums;
    }

    /// <summary>
    /// The posterior mean of every TE[x→target] ([x], 0 at the target): the target's column of <see cref="Effects"/>,
    /// each cell summed over the kept DAGs in id order exactly as there.
    /// </summary>
    internal double[] EffectsOn(int target)
    {
        var n = Family.Variables;
        var cells = n * n;
        var effects = Family.Effects;
        var sums = new double[n];
        for (var i = 0; i < _dags.Length; i++)
        {
            var p = _probabilities[i];
            var start = (long)_dags[i] * cells + target;
            for (var x = 0; x < n; x++)
            {
                sums[x] += p * effects[start + x * n];
            }
        }
        for (var x = 0; x < n; x++)
        {
            sums[x] = x == target ? 0 : sums[x] + 0.0;
        }
        return sums;
    }

    /// <summary>
    /// Per variable x, the entropy of the outcome of an experiment on x, from the mass on each of the family's distinct
    /// outcomes of x (<see cref="DagFamily.OutcomeIds"/>).
    /// </summary>
    private double[] Bits()
    {
        var n = Family.Variables;
        var outcomes = Rows(ref _outcomes, Family.OutcomeIds);
        // One array of buckets, variable x's from offsets[x]; each DAG adds its mass to its outcome's bucket per x, in id
        // order (the same additions in the same order as one array per variable). No bounds checks: an outcome id of x
        // is below OutcomeCounts[x] by the family's numbering, as a parent code is below CodesPerNode.
        var offsets = new int[n + 1];
        for (var x = 0; x < n; x++)
        {
            offsets[x + 1] = offsets[x] + Family.OutcomeCounts[x];
        }
        var flat = new double[offsets[n]];
        var count = _dags.Length;
        if (outcomes.Length < count * n || _probabilities.Length < count)
        {
            throw new InvalidOperationException("the outcome rows are short");
        }
        ref var bucket = ref MemoryMarshal.GetArrayDataReference(flat);
        ref var outcome = ref MemoryMarshal.GetArrayDataReference(outcomes);
        ref var probability = ref MemoryMarshal.GetArrayDataReference(_probabilities);
        for (var i = 0; i < count; i++)
        {
            var p = Unsafe.Add(ref probability, i);
            ref var row = ref Unsafe.Add(ref outcome, i * n);
            for (var x = 0; x < n; x++)
            {
                Unsafe.Add(ref bucket, offsets[x] + Unsafe.Add(ref row, x)) += p;
            }
        }
        var bits = new double[n];
        for (var x = 0; x < n; x++)
        {
            var buckets = flat.AsSpan(offsets[x], offsets[x + 1] - offsets[x]);
            // In outcome-id order: a fixed summation order.
            var total = 0.0;
            foreach (var q in buckets)
            {
                total += q;
            }
            var entropy = 0.0;
            foreach (var mass in buckets)
            {
                if (mass > 0)
                {
                    var q = mass / total;
                    entropy -= q * Math.Log2(q);
                }
            }
            bits[x] = entropy + 0.0;
        }
        return bits;
    }

    /// <summary>The <paramref name="count"/> most probable DAGs (ties by enumeration order).</summary>
    public ImmutableArray<WeightedHypothesis> Top(int count)
    {
        // The summary's top list is kept: the episode browser asks every trial of an episode for the same (cached)
        // posterior's top hypotheses, and the scan is over every kept DAG (all of them for the prior).
        if (count <= PosteriorSummary.TopCount)
        {
            var top = _top ??= SelectTop(PosteriorSummary.TopCount);
            return top.Length <= count ? top : [.. top.Take(count)];
        }
        return SelectTop(count);
    }

    private ImmutableArray<WeightedHypothesis> SelectTop(int count)
    {
        // A bounded selection (most probable first, ties by enumeration order) instead of sorting every kept DAG.
        var top = new List<int>(count + 1);
        for (var i = 0; i < _dags.Length && count > 0; i++)
        {
            if (_probabilities[i] == 0 || (top.Count == count && !Before(i, top[^1])))
            {
                continue;
            }
            var at = top.Count;
            while (at > 0 && Before(i, top[at - 1]))
            {
                at--;
            }
            top.Insert(at, i);
            if (top.Count > count)
            {
                top.RemoveAt(count);
            }
        }
        return [.. top.Select(i => new WeightedHypothesis(EdgesOf(_dags[i]), _probabilities[i]))];

        bool Before(int a, int b) => _probabilities[a] > _probabilities[b] || (_probabilities[a] == _probabilities[b] && _dags[a] < _dags[b]);
    }

    internal ImmutableArray<Edge> EdgesOf(int dag) => EdgesOf(Family, Model.Variables, dag);

    /// <summary>A DAG's signed edges named by <paramref name="variables"/>, in adjacency order.</summary>
    internal static ImmutableArray<Edge> EdgesOf(DagFamily family, ImmutableArray<string> variables, int dag)
    {
        var n = family.Variables;
        var adjacency = family.Adjacency(dag);
        var edges = ImmutableArray.CreateBuilder<Edge>();
        for (var i = 0; i < n * n; i++)
        {
            if (adjacency[i] != 0)
            {
                edges.Add(new Edge(variables[i / n], variables[i % n], adjacency[i]));
            }
        }
        return edges.ToImmutable();
    }
}
