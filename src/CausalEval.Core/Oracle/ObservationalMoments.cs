using CausalEval.Core.Worlds;

namespace CausalEval.Core.Oracle;

/// <summary>
/// The exact observational (no intervention) second moments of a world, hidden variables included: with
/// <c>X = (I − W)⁻ᵀ ε</c> and independent noise of one variance, <c>Cov(X_i, X_j) = σ² Σ_k M[k,i]·M[k,j]</c> where
/// <c>M = (I − W)⁻¹</c> (<c>M[k,j]</c> = total effect of k on j, 1 on the diagonal). What infinitely many passive
/// observational samples would show.
/// </summary>
public static class ObservationalMoments
{
    public static double Covariance(World world, int i, int j)
    {
        var sum = 0.0;
        for (var k = 0; k < world.Count; k++)
        {
            sum += Reach(world, k, i) * Reach(world, k, j);
        }
        return world.NoiseSd * world.NoiseSd * sum;
    }

    /// <summary>The population least-squares slope of <paramref name="effect"/> on <paramref name="cause"/>: Cov / Var.</summary>
    public static double RegressionSlope(World world, int cause, int effect)
    {
        var variance = Covariance(world, cause, cause);
        return variance > 0 ? Covariance(world, cause, effect) / variance : 0;
    }

    private static double Reach(World world, int from, int to) => from == to ? 1 : world.TotalEffect(from, to);
}
