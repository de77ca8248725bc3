using System.Collections.Immutable;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Agents;

/// <summary>
/// Every sample an agent has seen — passive evidence and its own valid experiments — as rows of
/// (intervened variable index or −1, intervention value, observed values), with the estimators built on them.
/// </summary>
internal sealed class EvidenceTable
{
    private readonly List<(int Intervened, double Value, ImmutableArray<double> Values)> _rows;
    private readonly int _variables;

    // Per cause: sum of x_effect / v over its interventions, and how many there were (one pass over the rows).
    private readonly double[] _effectSums;
    private readonly int[] _interventions;

    private EvidenceTable(List<(int, double, ImmutableArray<double>)> rows, int variables)
    {
        _rows = rows;
        _variables = variables;
        _effectSums = new double[variables * variables];
        _interventions = new int[variables];
        foreach (var (cause, value, values) in rows)
        {
            if (cause < 0 || value == 0)
            {
                continue;
            }
            _interventions[cause]++;
            for (var effect = 0; effect < variables; effect++)
            {
                _effectSums[cause * variables + effect] += values[effect] / value;
            }
        }
    }

    public static EvidenceTable From(EpisodeView view)
    {
        var brief = view.Brief;
        var rows = new List<(int, double, ImmutableArray<double>)>(view.History.Count + (brief.Evidence?.Samples.Length ?? 0));
        if (brief.Evidence is { } evidence)
        {
            foreach (var sample in evidence.Samples)
            {
                rows.Add(sample.Intervention is { } i ? (brief.IndexOf(i.Variable), i.Value, sample.Values) : (-1, 0, sample.Values));
            }
        }
        foreach (var step in view.History)
        {
            if (step.Phase == Phase.Explore && step.Status == StepStatus.Valid && step.Action is { } action)
            {
                rows.Add((brief.IndexOf(action.Variable), action.Value, step.Observation));
            }
        }
        return new EvidenceTable(rows, brief.Variables.Length);
    }

    /// <summary>
    /// Mean of <c>x_effect / v</c> over interventions <c>do(cause = v)</c>; falls back to the observational
    /// regression slope when <paramref name="cause"/> was never intervened on.
    /// </summary>
    public double InterventionalEffect(int cause, int effect)
    {
        var count = _interventions[cause];
        return count > 0 ? _effectSums[cause * _variables + effect] / count : RegressionSlope(cause, effect);
    }

    /// <summary>Least-squares slope of <paramref name="effect"/> on <paramref name="cause"/> over every row, interventions or not.</summary>
    public double RegressionSlope(int cause, int effect)
    {
        if (_rows.Count < 2)
        {
            return 0;
        }
        double meanX = 0, meanY = 0;
        foreach (var row in _rows)
        {
            meanX += row.Values[cause];
            meanY += row.Values[effect];
        }
        meanX /= _rows.Count;
        meanY /= _rows.Count;
        double sxy = 0, sxx = 0;
        foreach (var row in _rows)
        {
            var dx = row.Values[cause] - meanX;
            sxy += dx * (row.Values[effect] - meanY);
            sxx += dx * dx;
        }
        return sxx > 1e-12 ? sxy / sxx : 0;
    }

    /// <summary>
    /// Direct edges recovered from estimated total effects: <c>W = I − (I + T)⁻¹</c>, rounded to whole weights.
    /// </summary>
    public ImmutableArray<DirectedLink> RecoverEdges(ImmutableArray<string> names)
    {
        var n = _variables;
        var identityPlusT = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                identityPlusT[i, j] = i == j ? 1 : InterventionalEffect(i, j);
            }
        }
        if (!Matrix.TryInvert(identityPlusT, out var inverse))
        {
            return [];
        }
        var edges = ImmutableArray.CreateBuilder<DirectedLink>();
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (i != j && Math.Round(-inverse[i, j], MidpointRounding.AwayFromZero) != 0)
                {
                    edges.Add(new DirectedLink(names[i], names[j]));
                }
            }
        }
        return edges.ToImmutable();
    }
}

internal static class Matrix
{
    /// <summary>Gauss–Jordan inversion with partial pivoting; false when the matrix is singular.</summary>
    public static bool TryInvert(double[,] matrix, out double[,] inverse)
    {
        var n = matrix.GetLength(0);
        var a = (double[,])matrix.Clone();
        inverse = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            inverse[i, i] = 1;
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col]))
                {
                    pivot = r;
                }
            }
            if (Math.Abs(a[pivot, col]) < 1e-12)
            {
                return false;
            }
            if (pivot != col)
            {
                for (var c = 0; c < n; c++)
                {
                    (a[col, c], a[pivot, c]) = (a[pivot, c], a[col, c]);
                    (inverse[col, c], inverse[pivot, c]) = (inverse[pivot, c], inverse[col, c]);
                }
            }
            var scale = 1 / a[col, col];
            for (var c = 0; c < n; c++)
            {
                a[col, c] *= scale;
                inverse[col, c] *= scale;
            }
            for (var r = 0; r < n; r++)
            {
                if (r == col || a[r, col] == 0)
                {
                    continue;
                }
                var factor = a[r, col];
                for (var c = 0; c < n; c++)
                {
                    a[r, c] -= factor * a[col, c];
                    inverse[r, c] -= factor * inverse[col, c];
                }
            }
        }
        return true;
    }
}
