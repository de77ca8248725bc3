namespace CausalEval.Core.Inference;

/// <summary>
/// The hidden root's weight vectors u ∈ {−1, 0, +1}^n with at least two nonzero, drawn like the generator draws them
/// (each entry nonzero with probability p, sign ±1 evenly, rejected until two are nonzero). The likelihood depends on u
/// only through u·uᵀ, so u and −u are kept as one representative (first nonzero entry +1) carrying both their masses.
/// </summary>
internal sealed class RootWeights
{
    private RootWeights(int n, sbyte[][] vectors, double[] logPrior)
    {
        Variables = n;
        Vectors = vectors;
        LogPrior = logPrior;
    }

    public int Variables { get; }

    /// <summary>Representatives (first nonzero entry +1).</summary>
    public sbyte[][] Vectors { get; }

    /// <summary>Natural log of the prior mass of u and −u together.</summary>
    public double[] LogPrior { get; }

    /// <summary>All vectors (both signs): (3^n − 1 − 2n); 232 on 5 variables.</summary>
    public static int Count(int n)
    {
        var all = 1;
        for (var i = 0; i < n; i++)
        {
            all *= 3;
        }
        return all - 1 - 2 * n;
    }

    /// <summary>The generator draws the root's weights with p, or 2/3 when the edge probability is 0.</summary>
    public static double RootEdgeProbability(double edgeProbability) => edgeProbability > 0 ? edgeProbability : 2.0 / 3.0;

    public static RootWeights For(int n, double edgeProbability)
    {
        var p = RootEdgeProbability(edgeProbability);
        // Rejection conditions on "≥ 2 nonzero": divide by the chance of that event.
        var accept = 1 - Math.Pow(1 - p, n) - n * p * Math.Pow(1 - p, n - 1);
        var logAccept = Math.Log(accept);
        var vectors = new List<sbyte[]>();
        var logPrior = new List<double>();
        var total = Count(n) + 1 + 2 * n;
        for (var code = 0; code < total; code++)
        {
            var u = new sbyte[n];
            var rest = code;
            for (var i = 0; i < n; i++)
            {
                u[i] = (sbyte)(rest % 3 - 1);
                rest /= 3;
            }
            var nonzero = u.Count(x => x != 0);
            if (nonzero < 2 || u.First(x => x != 0) < 0)
            {
                continue;
            }
            var log = (nonzero * Math.Log(p / 2)) + (n - nonzero == 0 ? 0 : (n - nonzero) * Math.Log(1 - p)) - logAccept;
            vectors.Add(u);
            logPrior.Add(log + Math.Log(2));
        }
        return new RootWeights(n, [.. vectors], [.. logPrior]);
    }
}
