using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Tests.Inference;

/// <summary>
/// The ideal observer computed the slow, obvious way, independently of the engine: every path through the generator
/// (each variable order × each choice per pair, each root vector), its probability from the definition, the world built
/// by <see cref="World"/> (its own total effects), and each sample's density as a multivariate normal with the
/// covariance of X = (I − W'ᵀ)⁻¹e worked out and inverted by a Cholesky factorisation.
/// </summary>
internal sealed class BruteForceObserver
{
    private readonly List<(double LogWeight, World World)> _paths = [];

    public BruteForceObserver(int n, bool hidden, double p, double sigma, IReadOnlyList<EvidenceSample> samples)
    {
        var names = Enumerable.Range(0, n).Select(SignedDagOptions.NameOf).ToArray();
        var pairs = n * (n - 1) / 2;
        var choiceCount = (int)Math.Pow(3, pairs);
        var factorial = Enumerable.Range(1, n).Aggregate(1, (a, b) => a * b);
        // Paths that give the same world are merged (probabilities added) before the expensive likelihood.
        var worlds = new Dictionary<string, (double Probability, sbyte[] Adjacency)>();
        foreach (var order in Permutations(n))
        {
            for (var c = 0; c < choiceCount; c++)
            {
                var choice = new sbyte[pairs];
                var rest = c;
                var probability = 1.0 / factorial;
                for (var k = 0; k < pairs; k++)
                {
                    choice[k] = (sbyte)(rest % 3 - 1);
                    rest /= 3;
                    probability *= choice[k] == 0 ? 1 - p : p / 2;
                }
                if (probability == 0)
                {
                    continue;
                }
                var adjacency = new sbyte[n * n];
                SignedDagGenerator.FillAdjacency(order, choice, adjacency);
                var key = string.Join(",", adjacency);
                worlds[key] = worlds.TryGetValue(key, out var seen) ? (seen.Probability + probability, adjacency) : (probability, adjacency);
            }
        }
        var roots = hidden ? RootVectors(n, p) : [(1.0, new sbyte[n])];
        foreach (var (probability, adjacency) in worlds.Values)
        {
            var edges = new List<Edge>();
            for (var i = 0; i < n * n; i++)
            {
                if (adjacency[i] != 0)
                {
                    edges.Add(new Edge(names[i / n], names[i % n], adjacency[i]));
                }
            }
            var world = World.Create(names, edges, sigma);
            // The world's hypotheses over the root are summed here: its weight is Σ_u P(u)·L(world, u).
            var inverses = samples.Select(s => Transfer(adjacency, n, Intervened(s))).ToArray();
            var logTerms = roots.Select(r => Math.Log(probability) + Math.Log(r.Probability)
                + samples.Select((s, k) => LogDensity(inverses[k], r.Weights, sigma, s)).Sum()).ToArray();
            var max = logTerms.Max();
            _paths.Add((max + Math.Log(logTerms.Sum(t => Math.Exp(t - max))), world));
        }
        var top = _paths.Max(x => x.LogWeight);
        LogEvidence = top + Math.Log(_paths.Sum(x => Math.Exp(x.LogWeight - top)));
        Worlds = worlds.Count;
    }

    public int Worlds { get; }

    public double LogEvidence { get; }

    private double Probability(double logWeight) => Math.Exp(logWeight - LogEvidence);

    public double ExpectedEffect(string cause, string effect)
        => _paths.Sum(x => Probability(x.LogWeight) * x.World.TotalEffect(cause, effect));

    public double InformationBits(string variable)
    {
        var outcomes = new Dictionary<string, double>();
        foreach (var (logWeight, world) in _paths)
        {
            var key = string.Join(",", world.Variables.Where(y => y != variable).Select(y => world.TotalEffect(variable, y)));
            outcomes[key] = outcomes.GetValueOrDefault(key) + Probability(logWeight);
        }
        return -outcomes.Values.Where(q => q > 0).Sum(q => q * Math.Log2(q));
    }

    public double MaxPosterior => _paths.Max(x => Probability(x.LogWeight));

    /// <summary>Root vectors u with ≥ 2 nonzero and their probability: per entry 1 − p (zero) or p/2 (±1), renormalised.</summary>
    private static List<(double Probability, sbyte[] Weights)> RootVectors(int n, double p)
    {
        var pr = p > 0 ? p : 2.0 / 3.0; // as the generator draws them
        var list = new List<(double, sbyte[])>();
        for (var code = 0; code < (int)Math.Pow(3, n); code++)
        {
            var u = new sbyte[n];
            var rest = code;
            var probability = 1.0;
            for (var i = 0; i < n; i++)
            {
                u[i] = (sbyte)(rest % 3 - 1);
                rest /= 3;
                probability *= u[i] == 0 ? 1 - pr : pr / 2;
            }
            if (u.Count(x => x != 0) >= 2)
            {
                list.Add((probability, u));
            }
        }
        var total = list.Sum(x => x.Item1);
        return [.. list.Select(x => (x.Item1 / total, x.Item2))];
    }

    /// <summary>log N(x_O; μ, Σ) over the non-intervened observables O, with X = A·e, A = (I − W'ᵀ)⁻¹, e = ε + u·U.</summary>
    private static int Intervened(EvidenceSample sample)
        => sample.Intervention is { } action ? action.Variable[0] - 'A' : -1; // variables are named A, B, C, …

    /// <summary>(I − W'ᵀ)⁻¹, where W' is W with the intervened variable's parents cut.</summary>
    private static double[,] Transfer(sbyte[] adjacency, int n, int s)
    {
        var a = new double[n, n]; // row j: X_j − Σ_i w'_ij X_i
        for (var j = 0; j < n; j++)
        {
            a[j, j] = 1;
            for (var i = 0; i < n; i++)
            {
                if (j != s)
                {
                    a[j, i] -= adjacency[i * n + j];
                }
            }
        }
        return Invert(a);
    }

    private static double LogDensity(double[,] inverse, sbyte[] u, double sigma, EvidenceSample sample)
    {
        var n = u.Length;
        var s = Intervened(sample);
        // e_s = v (fixed); e_j = ε_j + u_j·U otherwise: Cov(e)_{pq} = σ²([p = q] + u_p u_q) for p, q ≠ s, so
        // Cov(X_j, X_k) = σ²(Σ_{p≠s} A_jp A_kp + (Σ_{p≠s} A_jp u_p)(Σ_{q≠s} A_kq u_q)).
        var au = new double[n];
        for (var j = 0; j < n; j++)
        {
            for (var p = 0; p < n; p++)
            {
                if (p != s)
                {
                    au[j] += inverse[j, p] * u[p];
                }
            }
        }
        var observed = Enumerable.Range(0, n).Where(j => j != s).ToArray();
        var m = observed.Length;
        var sigmaO = new double[m, m];
        var mean = new double[m];
        for (var x = 0; x < m; x++)
        {
            var j = observed[x];
            mean[x] = s >= 0 ? inverse[j, s] * sample.Intervention!.Value.Value : 0;
            for (var y = 0; y < m; y++)
            {
                var k = observed[y];
                var sum = au[j] * au[k];
                for (var p = 0; p < n; p++)
                {
                    if (p != s)
                    {
                        sum += inverse[j, p] * inverse[k, p];
                    }
                }
                sigmaO[x, y] = sigma * sigma * sum;
            }
        }
        var diff = observed.Select((j, x) => sample.Values[j] - mean[x]).ToArray();
        var chol = Cholesky(sigmaO);
        var logDet = 0.0;
        for (var x = 0; x < m; x++)
        {
            logDet += 2 * Math.Log(chol[x, x]);
        }
        // Solve L z = diff; the quadratic form is |z|².
        var z = new double[m];
        for (var x = 0; x < m; x++)
        {
            var v = diff[x];
            for (var y = 0; y < x; y++)
            {
                v -= chol[x, y] * z[y];
            }
            z[x] = v / chol[x, x];
        }
        return -0.5 * (m * Math.Log(2 * Math.PI) + logDet + z.Sum(v => v * v));
    }

    private static double[,] Cholesky(double[,] matrix)
    {
        var m = matrix.GetLength(0);
        var l = new double[m, m];
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j <= i; j++)
            {
                var sum = matrix[i, j];
                for (var k = 0; k < j; k++)
                {
                    sum -= l[i, k] * l[j, k];
                }
                l[i, j] = i == j ? Math.Sqrt(sum) : sum / l[j, j];
            }
        }
        return l;
    }

    private static double[,] Invert(double[,] matrix)
    {
        var n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        var inverse = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            inverse[i, i] = 1;
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = Enumerable.Range(col, n - col).MaxBy(r => Math.Abs(a[r, col]));
            for (var c = 0; c < n; c++)
            {
                (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
                (inverse[col, c], inverse[pivot, c]) = (inverse[pivot, c], inverse[col, c]);
            }
            var scale = 1 / a[col, col];
            for (var c = 0; c < n; c++)
            {
                a[col, c] *= scale;
                inverse[col, c] *= scale;
            }
            for (var r = 0; r < n; r++)
            {
                if (r != col && a[r, col] != 0)
                {
                    var factor = a[r, col];
                    for (var c = 0; c < n; c++)
                    {
                        a[r, c] -= factor * a[col, c];
                        inverse[r, c] -= factor * inverse[col, c];
                    }
                }
            }
        }
        return inverse;
    }

    private static IEnumerable<int[]> Permutations(int n)
    {
        var items = Enumerable.Range(0, n).ToArray();
        return Permute(items, 0);

        static IEnumerable<int[]> Permute(int[] items, int k)
        {
            if (k == items.Length)
            {
                yield return (int[])items.Clone();
                yield break;
            }
            for (var i = k; i < items.Length; i++)
            {
                (items[k], items[i]) = (items[i], items[k]);
                foreach (var p in Permute(items, k + 1))
                {
                    yield return p;
                }
                (items[k], items[i]) = (items[i], items[k]);
            }
        }
    }

    public static ImmutableArray<string> Names(int n) => [.. Enumerable.Range(0, n).Select(SignedDagOptions.NameOf)];
}
