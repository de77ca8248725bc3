using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CausalEval.Core.Episodes;

namespace CausalEval.Core.Inference;

/// <summary>
/// Exact Bayesian inference over a task's world family (DESIGN §1.6): the posterior over every signed DAG (marginal over
/// the hidden root's weights when there is one) given evidence samples, in log space throughout.
/// </summary>
/// <remarks>
/// Without a hidden root a DAG's log-likelihood is a sum of per-node terms that depend only on the node's signed parent
/// set, so one table per (node, parent code) per evidence is built and each DAG costs n lookups. With the hidden root U
/// (weights u), the residuals r of a sample with intervened set S are N(0, σ²(I + u_S u_Sᵀ)); the matrix determinant
/// lemma and Sherman–Morrison give log det = |S̄|·log σ² + log(1 + |u_S|²) and the quadratic
/// (|r|² − (u_S·r)²/(1 + |u_S|²))/σ², so per group of samples sharing S only the scatter matrix M_S of the residuals
/// matters — its entries are per-(node pair, parent codes) tables — and per DAG the root costs uᵀM_S u for the
/// 116 representatives ±u. Hypotheses are left out only under a proven bound: everything neglected is counted into
/// <see cref="Posterior.NeglectedMass"/>, which stays below <see cref="NeglectTolerance"/>.
/// </remarks>
public static class IdealObserver
{
    /// <summary>Upper bound on the posterior mass any pruning may neglect.</summary>
    public const double NeglectTolerance = 1e-12;

    /// <summary>DAGs below e^−60 of the best are dropped (with 3·10⁶ DAGs that is under 10⁻¹⁹ of the mass).</summary>
    internal const double KeepMargin = 60;

    /// <summary>Root vectors below e^−40 of a DAG's best root vector are not summed (≤ 116·e^−40 of its mass).</summary>
    internal const double RootMargin = 40;

    /// <summary>A DAG whose upper bound is e^−46 below a found DAG is not evaluated (3·10⁶·e^−46 &lt; 10⁻¹³).</summary>
    internal const double BoundMargin = 46;

    /// <summary>Posteriors this large are recomputed rather than updated one sample at a time.</summary>
    internal const int IncrementalLimit = 1_500_000;

    private static readonly ConcurrentDictionary<(int, double), Posterior> Priors = new();

    /// <summary>The posterior given <paramref name="samples"/> (values as shown; an intervened variable at its value).</summary>
    /// <param name="threads">Cores to use (the result does not depend on it).</param>
    public static Posterior Infer(ObserverModel model, IReadOnlyList<EvidenceSample> samples, int threads = 1)
    {
        if (model.Validate() is { } problem)
        {
            throw new ArgumentException($"{problem.Field}: {problem.Problem}", nameof(model));
        }
        var observations = samples.Select(s => Observation.From(model, s)).ToImmutableArray();
        var family = DagFamily.For(model.Variables.Length);
        if (observations.Length == 0)
        {
            // The prior is the same for every episode of a family: compute it once.
            var prior = Priors.GetOrAdd((model.Variables.Length, model.EdgeProbability),
                _ => NoHiddenPass(model with { HiddenConfounder = false }, family, [], threads));
            return prior.WithModel(model);
        }
        return model.HiddenConfounder
            ? HiddenRootPass(model, family, observations, threads)
            : NoHiddenPass(model, family, observations, threads);
    }

    /// <summary>
    /// The prior's <paramref name="count"/> most probable hypotheses, the same as <c>Infer(model, []).Top(count)</c>,
    /// without keeping the prior's arrays (an id and a probability per DAG, 37 MB on 5 variables) when no prior is cached
    /// yet: for a caller that needs only these (a report's truth view).
    /// </summary>
    public static ImmutableArray<WeightedHypothesis> PriorTop(ObserverModel model, int count)
    {
        if (model.Validate() is { } problem)
        {
            throw new ArgumentException($"{problem.Field}: {problem.Problem}", nameof(model));
        }
        var family = DagFamily.For(model.Variables.Length);
        if (Priors.ContainsKey((model.Variables.Length, model.EdgeProbability)) || count > PosteriorSummary.TopCount)
        {
            return Infer(model, []).Top(count);
        }
        var top = PriorTops.GetOrAdd((string.Join(",", model.Variables), model.EdgeProbability), _ => SelectPriorTop(model, family));
        return top.Length <= count ? top : [.. top.Take(count)];
    }

    /// <summary>The prior's <see cref="PosteriorSummary.TopCount"/> most probable hypotheses by variable names and edge probability.</summary>
    private static readonly ConcurrentDictionary<(string Variables, double EdgeProbability), ImmutableArray<WeightedHypothesis>> PriorTops = new();

    private static ImmutableArray<WeightedHypothesis> SelectPriorTop(ObserverModel model, DagFamily family)
    {
        // Posterior.Create's numbers for the prior's weights, DAG by DAG in id order: the largest log weight, the sum of
        // exp(lw − max), each probability exp(lw − max) / sum; then the same bounded selection (most probable first, ties
        // by id). A DAG's weight depends only on its prior index, so the probabilities are one per index.
        var logPrior = family.LogPriorTable(model.EdgeProbability);
        var indices = family.PriorIndices;
        var max = double.NegativeInfinity;
        foreach (var index in indices)
        {
            max = Math.Max(max, logPrior[index]);
        }
        var floor = max - KeepMargin;
        var sum = 0.0;
        foreach (var index in indices)
        {
            var lw = logPrior[index];
            if (!(lw >= floor))
            {
                // Some DAG would be dropped (an edge probability far from the generator's): the prior's own path decides.
                return Infer(model, []).Top(PosteriorSummary.TopCount);
            }
            sum += Math.Exp(lw - max);
        }
        var probabilities = new double[logPrior.Length];
        for (var i = 0; i < logPrior.Length; i++)
        {
            probabilities[i] = Math.Exp(logPrior[i] - max) / sum;
        }
        var wanted = PosteriorSummary.TopCount;
        var top = new List<int>(wanted + 1);
        for (var d = 0; d < indices.Length; d++)
        {
            var p = probabilities[indices[d]];
            if (p == 0 || (top.Count == wanted && !(p > probabilities[indices[top[^1]]])))
            {
                continue;
            }
            var at = top.Count;
            while (at > 0 && p > probabilities[indices[top[at - 1]]])
            {
                at--;
            }
            top.Insert(at, d);
            if (top.Count > wanted)
            {
                top.RemoveAt(wanted);
            }
        }
        return [.. top.Select(d => new WeightedHypothesis(Posterior.EdgesOf(family, model.Variables, d), probabilities[indices[d]]))];
    }

    /// <summary>Σ over samples where node j is not intervened of log N(r_j; 0, σ²), per (node, parent code).</summary>
    internal static double[] LocalTerms(DagFamily family, IReadOnlyList<Observation> observations, double sigma)
    {
        var n = family.Variables;
        var codes = family.CodesPerNode;
        var table = new double[n * codes];
        var logNorm = -0.5 * Math.Log(2 * Math.PI * sigma * sigma);
        var inv = 1 / (2 * sigma * sigma);
        for (var j = 0; j < n; j++)
        {
            for (var c = 0; c < codes; c++)
            {
                var w = family.ParentsOfCode[j * codes + c];
                var sum = 0.0;
                foreach (var o in observations)
                {
                    if (o.Intervened == j)
                    {
                        continue;
                    }
                    var r = Residual(o.Values, w, j, n);
                    sum += logNorm - r * r * inv;
                }
                table[j * codes + c] = sum;
            }
        }
        return table;
    }

    private static double Residual(double[] x, sbyte[] w, int j, int n)
    {
        var r = x[j];
        for (var i = 0; i < n; i++)
        {
            r -= w[i] * x[i];
        }
        return r;
    }

    /// <summary>Σ_j table[j, code_j] for one DAG (the inner loop of every pass: no bounds checks).</summary>
    private static double DagTerm(byte[] codes, int dag, int n, int codesPerNode, double[] table)
    {
        ref var code = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(codes), dag * n);
        ref var row = ref MemoryMarshal.GetArrayDataReference(table);
        var sum = 0.0;
        for (var j = 0; j < n; j++)
        {
            sum += Unsafe.Add(ref row, j * codesPerNode + Unsafe.Add(ref code, j));
        }
        return sum;
    }

    internal static Posterior NoHiddenPass(ObserverModel model, DagFamily family, ImmutableArray<Observation> observations, int threads)
    {
        // Without a root the per-(node, code) terms are the exact log-likelihood: bound and weight coincide. One thread:
        // the pass is milliseconds, and runs already spread trials over the cores.
        var logPrior = family.LogPriorTable(model.EdgeProbability);
        if (observations.IsEmpty)
        {
            // The prior: every DAG at its prior weight, no pass needed.
            var all = new int[family.Count];
            var weights = new double[family.Count];
            for (var d = 0; d < all.Length; d++)
            {
                all[d] = d;
                weights[d] = logPrior[family.PriorIndices[d]];
            }
            return Posterior.Create(model, family, observations, all, weights, double.NegativeInfinity, relativeNeglect: 0);
        }
        var table = LocalTerms(family, observations, model.NoiseSd);
        // The walk hands over the kept DAGs' rows of codes, which the updates read, and the largest kept weight (the values
        // Posterior.Create would gather and find itself); outcome ids are gathered when an information pass first needs them.
        var result = BranchAndBound.Run(family, table, logPrior, KeepMargin, exact: null, scratchLength: 0, threads: 1, rows: true);
        // Each DAG left out weighs less than e^(best − KeepMargin).
        var logNeglect = result.Left > 0 ? Math.Log(result.Left) + result.Best - KeepMargin : double.NegativeInfinity;
        return Posterior.Create(model, family, observations, result.Dags, result.LogWeights, logNeglect, relativeNeglect: 0,
            result.Codes, outcomes: null, result.Dags.Length > 0 ? result.MaxKept : null);
    }

    internal static Posterior HiddenRootPass(ObserverModel model, DagFamily family, ImmutableArray<Observation> observations, int threads)
    {
        var setup = new RootSetup(model, family, observations);
        var logPrior = family.LogPriorTable(model.EdgeProbability);
        var priorIndices = family.PriorIndices;
        var result = BranchAndBound.Run(family, setup.BoundTable, logPrior, BoundMargin,
            (dag, _, threshold, scratch) => setup.Exact(dag, logPrior[priorIndices[dag]], scratch, threshold),
            setup.PaddedRoots, threads);
        // Every left-out DAG weighs less than e^(best − BoundMargin) (its bound, or its exact weight, was below that).
        var logNeglect = result.Left > 0 ? Math.Log(result.Left) + result.Best - BoundMargin : double.NegativeInfinity;
        var relative = (setup.Roots - 1) * Math.Exp(-RootMargin);
        return Posterior.Create(model, family, observations, result.Dags, result.LogWeights, logNeglect, relative);
    }

    /// <summary>log(e^a + e^b) without overflow.</summary>
    internal static double LogAdd(double a, double b)
    {
        if (double.IsNegativeInfinity(a))
        {
            return b;
        }
        if (double.IsNegativeInfinity(b))
        {
            return a;
        }
        return a > b ? Larger(a, b - a) : Larger(b, a - b);

        // A term below e^−40 of the larger one is under 2^−57 of it: 1 + e^d rounds to 1, whose log is 0, so the sum is
        // larger + 0 without the exp, which libm takes a slow path for once it underflows (most of an update's dropped DAGs).
        static double Larger(double larger, double d) => d < -LogAddNegligible ? larger + 0.0 : larger + Math.Log(1 + Math.Exp(d));
    }

    /// <summary>How far below the larger term (in log units) <see cref="LogAdd"/> leaves a smaller one out: e^−40 &lt; 2^−57.</summary>
    internal const double LogAddNegligible = 40;

    /// <summary>Everything the hidden-root likelihood needs that does not depend on the DAG.</summary>
    private sealed class RootSetup
    {
        private readonly DagFamily _family;
        private readonly int _features;
        private readonly int[] _featureNodeA;   // node whose code indexes the feature table (row)
        private readonly int[] _featureNodeB;   // second node (column), or −1 for a diagonal feature
        private readonly double[][] _featureTables;
        private readonly double[] _coefficients; // [feature·PaddedRoots + u]
        private readonly double[] _rootConstants; // [u]: log prior + Σ_g −½ n_g log(1 + |u_S|²)
        private readonly double _logRoots;

        public RootSetup(ObserverModel model, DagFamily family, ImmutableArray<Observation> observations)
        {
            _family = family;
            var n = family.Variables;
            var codesPerNode = family.CodesPerNode;
            var sigma2 = model.NoiseSd * model.NoiseSd;
            var roots = RootWeights.For(n, model.EdgeProbability);
            Roots = roots.Vectors.Length;
            _logRoots = Math.Log(Roots);
            PaddedRoots = (Roots + Vector<double>.Count - 1) / Vector<double>.Count * Vector<double>.Count;

            var groups = observations.GroupBy(o => o.Intervened).OrderBy(g => g.Key).Select(g => g.ToArray()).ToArray();
            var nodeA = new List<int>();
            var nodeB = new List<int>();
            var tables = new List<double[]>();
            var coefficients = new List<double[]>();
            var constants = new double[PaddedRoots];
            Array.Fill(constants, double.NegativeInfinity);
            for (var u = 0; u < Roots; u++)
            {
                constants[u] = roots.LogPrior[u];
            }
            var logNorm = -0.5 * Math.Log(2 * Math.PI * sigma2);
            BoundTable = new double[n * codesPerNode];
            NoHiddenTable = new double[n * codesPerNode];
            foreach (var group in groups)
            {
                var intervened = group[0].Intervened;
                var coords = Enumerable.Range(0, n).Where(j => j != intervened).ToArray();
                var m = coords.Length;
                var count = group.Length;
                // residuals[j][c·count + k]
                var residuals = new double[n][];
                foreach (var j in coords)
                {
                    residuals[j] = new double[codesPerNode * count];
                    for (var c = 0; c < codesPerNode; c++)
                    {
                        var w = family.ParentsOfCode[j * codesPerNode + c];
                        for (var k = 0; k < count; k++)
                        {
                            residuals[j][c * count + k] = Residual(group[k].Values, w, j, n);
                        }
                    }
                }
                // Upper bound of the root's term: (u_S·r)² ≤ |u_S|²|r|², so it adds at most tr(M_S)·m/(2σ²(1 + m)).
                var kappa = m / (2 * sigma2 * (1 + m));
                foreach (var j in coords)
                {
                    var diag = new double[codesPerNode];
                    for (var c = 0; c < codesPerNode; c++)
                    {
                        var s = 0.0;
                        for (var k = 0; k < count; k++)
                        {
                            var r = residuals[j][c * count + k];
                            s += r * r;
                        }
                        diag[c] = s;
                        NoHiddenTable[j * codesPerNode + c] += count * logNorm - s / (2 * sigma2);
                        BoundTable[j * codesPerNode + c] += count * logNorm - s / (2 * sigma2) + s * kappa;
                    }
                    nodeA.Add(j);
                    nodeB.Add(-1);
                    tables.Add(diag);
                }
                for (var a = 0; a < m; a++)
                {
                    for (var b = a + 1; b < m; b++)
                    {
                        int ja = coords[a], jb = coords[b];
                        var cross = new double[codesPerNode * codesPerNode];
                        for (var ca = 0; ca < codesPerNode; ca++)
                        {
                            for (var cb = 0; cb < codesPerNode; cb++)
                            {
                                var s = 0.0;
                                for (var k = 0; k < count; k++)
                                {
                                    s += residuals[ja][ca * count + k] * residuals[jb][cb * count + k];
                                }
                                cross[ca * codesPerNode + cb] = s;
                            }
                        }
                        nodeA.Add(ja);
                        nodeB.Add(jb);
                        tables.Add(cross);
                    }
                }
                // Coefficients of each feature in the root's exponent, per u: u_j u_j' (twice off the diagonal) / (2σ²(1 + |u_S|²)).
                var firstFeature = coefficients.Count;
                for (var f = 0; f < m + m * (m - 1) / 2; f++)
                {
                    coefficients.Add(new double[PaddedRoots]);
                }
                for (var u = 0; u < Roots; u++)
                {
                    var vector = roots.Vectors[u];
                    var norm = coords.Sum(j => vector[j] * vector[j]);
                    constants[u] += -0.5 * count * Math.Log(1 + norm);
                    var scale = 1 / (2 * sigma2 * (1 + norm));
                    var f = firstFeature;
                    foreach (var j in coords)
                    {
                        coefficients[f++][u] = vector[j] * vector[j] * scale;
                    }
                    for (var a = 0; a < m; a++)
                    {
                        for (var b = a + 1; b < m; b++)
                        {
                            coefficients[f++][u] = 2 * vector[coords[a]] * vector[coords[b]] * scale;
                        }
                    }
                }
            }
            _features = tables.Count;
            _featureNodeA = [.. nodeA];
            _featureNodeB = [.. nodeB];
            _featureTables = [.. tables];
            _coefficients = new double[_features * PaddedRoots];
            for (var f = 0; f < _features; f++)
            {
                coefficients[f].CopyTo(_coefficients, f * PaddedRoots);
            }
            _rootConstants = constants;
            // LSE(a_u + x_u) ≤ LSE(a_u) + max_u x_u: the constant part of the bound goes on node 0's table.
            var rootMax = constants.Max();
            var rootSum = constants.Sum(c => Math.Exp(c - rootMax));
            var logSumConstants = rootMax + Math.Log(rootSum);
            for (var c = 0; c < codesPerNode; c++)
            {
                BoundTable[c] += logSumConstants;
            }
        }

        public int Roots { get; }

        public int PaddedRoots { get; }



        /// <summary>Per (node, code): an upper bound on the DAG's log-likelihood, summed over nodes.</summary>
        public double[] BoundTable { get; }

        /// <summary>Per (node, code): the log-likelihood without the root (the residuals' independent part).</summary>
        public double[] NoHiddenTable { get; }

        /// <summary>
        /// log prior + log-likelihood marginal over the root's weights; NaN when even max_u + log(#u) — an upper bound of
        /// the sum over u — is below <paramref name="threshold"/> (then no exponential is taken).
        /// </summary>
        public double Exact(int dag, double logPrior, double[] scratch, double threshold)
        {
            var n = _family.Variables;
            var codesPerNode = _family.CodesPerNode;
            var codes = _family.Codes;
            var baseTerm = DagTerm(codes, dag, n, codesPerNode, NoHiddenTable);
            var exponents = scratch.AsSpan();
            _rootConstants.CopyTo(exponents);
            var vectors = MemoryMarshal.Cast<double, Vector<double>>(exponents);
            for (var f = 0; f < _features; f++)
            {
                var a = codes[dag * n + _featureNodeA[f]];
                var b = _featureNodeB[f];
                var value = b < 0 ? _featureTables[f][a] : _featureTables[f][a * codesPerNode + codes[dag * n + b]];
                if (value == 0)
                {
                    continue;
                }
                var factor = new Vector<double>(value);
                var row = MemoryMarshal.Cast<double, Vector<double>>(_coefficients.AsSpan(f * PaddedRoots, PaddedRoots));
                for (var v = 0; v < vectors.Length; v++)
                {
                    vectors[v] += factor * row[v];
                }
            }
            var max = double.NegativeInfinity;
            for (var u = 0; u < Roots; u++)
            {
                if (exponents[u] > max)
                {
                    max = exponents[u];
                }
            }
            if (logPrior + baseTerm + max + _logRoots < threshold)
            {
                return double.NaN;
            }
            var floor = max - RootMargin;
            var sum = 0.0;
            for (var u = 0; u < Roots; u++)
            {
                if (exponents[u] >= floor)
                {
                    sum += Math.Exp(exponents[u] - max);
                }
            }
            return logPrior + baseTerm + max + Math.Log(sum);
        }
    }
}

/// <summary>One evidence sample as the engine reads it: the intervened index (−1 for none) and every observable's value.</summary>
internal readonly record struct Observation(int Intervened, double[] Values)
{
    public static Observation From(ObserverModel model, EvidenceSample sample)
    {
        var n = model.Variables.Length;
        if (sample.Values.Length != n)
        {
            throw new ArgumentException($"a sample has {sample.Values.Length} values for {n} variables", nameof(sample));
        }
        var values = sample.Values.ToArray();
        var intervened = -1;
        if (sample.Intervention is { } action)
        {
            intervened = model.Variables.IndexOf(action.Variable);
            if (intervened < 0)
            {
                throw new ArgumentException($"unknown variable '{action.Variable}'", nameof(sample));
            }
            values[intervened] = action.Value;
        }
        return new Observation(intervened, values);
    }
}
