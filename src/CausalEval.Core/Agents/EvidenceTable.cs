using System.Collections.Immutable;
using System.Runtime.InteropServices;
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
        // By index: a foreach over the read-only list would allocate an enumerator at every decision.
        var history = view.History;
        for (var s = 0; s < history.Count; s++)
        {
            var step = history[s];
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
        // Row-major n × n in one stackalloc'd span: a double[,] per call was most of the built-in agents' CPU (the runtime
        // allocates multidimensional arrays through a slow helper), and the arithmetic is the same.
        Span<double> identityPlusT = stackalloc double[n * n];
        Span<double> inverse = stackalloc double[n * n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                identityPlusT[i * n + j] = i == j ? 1 : InterventionalEffect(i, j);
            }
        }
        if (!Matrix.TryInvert(identityPlusT, n, inverse))
        {
            return [];
        }
        // Counted first, so the answer is one array of its own length (no builder, no copy).
        Span<bool> isEdge = stackalloc bool[n * n];
        var count = 0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (i != j && RoundsToAnEdge(-inverse[i * n + j]))
                {
                    isEdge[i * n + j] = true;
                    count++;
                }
            }
        }
        var edges = new DirectedLink[count];
        count = 0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (isEdge[i * n + j])
                {
                    edges[count++] = new DirectedLink(names[i], names[j]);
                }
            }
        }
        return ImmutableCollectionsMarshal.AsImmutableArray(edges);
    }

    /// <summary>
    /// Whether an estimated direct weight rounds (half away from zero) to a non-zero whole weight: |w| ≥ ½, or not a
    /// number. The same answer as <c>Math.Round(w, MidpointRounding.AwayFromZero) != 0</c>, without the rounding.
    /// </summary>
    internal static bool RoundsToAnEdge(double weight) => !(Math.Abs(weight) < 0.5);
}

internal static class Matrix
{
    /// <summary>
    /// Gauss–Jordan inversion with partial pivoting of the row-major n × n <paramref name="matrix"/> (left in no useful state) into
    /// <paramref name="inverse"/>; false when the matrix is singular.
    /// </summary>
    public static bool TryInvert(Span<double> matrix, int n, Span<double> inverse)
    {
        var a = matrix;
        inverse[..(n * n)].Clear();
        for (var i = 0; i < n; i++)
        {
            inverse[i * n + i] = 1;
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[r * n + col]) > Math.Abs(a[pivot * n + col]))
                {
                    pivot = r;
                }
            }
            if (Math.Abs(a[pivot * n + col]) < 1e-12)
            {
                return false;
            }
            if (pivot != col)
            {
                for (var c = 0; c < n; c++)
                {
                    (a[col * n + c], a[pivot * n + c]) = (a[pivot * n + c], a[col * n + c]);
                    (inverse[col * n + c], inverse[pivot * n + c]) = (inverse[pivot * n + c], inverse[col * n + c]);
                }
            }
            // Columns up to col of the matrix are never read again (pivots and factors come from later columns), so only
            // the later ones are scaled and reduced; the inverse is updated in full. Same values as updating every column.
            var scale = 1 / a[col * n + col];
            for (var c = col + 1; c < n; c++)
            {
                a[col * n + c] *= scale;
            }
            for (var c = 0; c < n; c++)
            {
                inverse[col * n + c] *= scale;
            }
            for (var r = 0; r < n; r++)
            {
                if (r == col || a[r * n + col] == 0)
                {
                    continue;
                }
                var factor = a[r * n + col];
                for (var c = col + 1; c < n; c++)
                {
                    a[r * n + c] -= factor * a[col * n + c];
                }
                for (var c = 0; c < n; c++)
                {
                    inverse[r * n + c] -= factor * inverse[col * n + c];
                }
            }
        }
        return true;
    }
}
