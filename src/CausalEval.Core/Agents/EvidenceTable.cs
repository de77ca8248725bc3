using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using CausalEval.Core.Episodes;
using CausalEval.Core.Worlds;

namespace CausalEval.Core.Agents;

/// <summary>
/// Every sample an agent has seen — passive evidence and its own valid experiments — as rows of
/// (intervened variable index or −1, intervention value, observed values), with the estimators built on them.
/// </summary>
internal sealed class EvidenceTable
{
    private readonly EpisodeView _view;
    private readonly int _historyCount;
    private readonly int _variables;

    // Per cause: sum of x_effect / v over its interventions (n × n, row-major), then how many there were (n more),
    // gathered in one pass over the samples in their order.
    private readonly double[] _sums;

    // Every sample's values, made when a regression first asks for them (the expert's estimates rarely do).
    private ImmutableArray<double>[]? _rows;

    private EvidenceTable(EpisodeView view)
    {
        _view = view;
        _historyCount = view.History.Count;
        var brief = view.Brief;
        var n = _variables = brief.Variables.Length;
        _sums = new double[n * n + n];
        if (brief.Evidence is { } evidence)
        {
            foreach (var sample in evidence.Samples)
            {
                if (sample.Intervention is { } i)
                {
                    Add(brief.IndexOf(i.Variable), i.Value, sample.Values);
                }
            }
        }
        // By index: a foreach over the read-only list would allocate an enumerator at every decision.
        var history = view.History;
        for (var s = 0; s < _historyCount; s++)
        {
            if (Experiment(history[s]) is { } action)
            {
                Add(brief.IndexOf(action.Variable), action.Value, history[s].Observation);
            }
        }
    }

    /// <summary>The samples an agent has seen at <paramref name="view"/>: the passive evidence, then its valid experiments.</summary>
    public static EvidenceTable From(EpisodeView view) => new(view);

    /// <summary>The intervention of a step whose sample the agent saw (a valid explore step); null for any other step.</summary>
    private static Intervention? Experiment(StepRecord step)
        => step.Phase == Phase.Explore && step.Status == StepStatus.Valid ? step.Action : null;

    private void Add(int cause, double value, ImmutableArray<double> values)
    {
        if (cause < 0 || value == 0)
        {
            return;
        }
        var n = _variables;
        _sums[n * n + cause]++;
        for (var effect = 0; effect < n; effect++)
        {
            _sums[cause * n + effect] += values[effect] / value;
        }
    }

    /// <summary>
    /// Mean of <c>x_effect / v</c> over interventions <c>do(cause = v)</c>; falls back to the observational
    /// regression slope when <paramref name="cause"/> was never intervened on.
    /// </summary>
    public double InterventionalEffect(int cause, int effect)
    {
        var n = _variables;
        var count = _sums[n * n + cause];
        return count > 0 ? _sums[cause * n + effect] / count : RegressionSlope(cause, effect);
    }

    /// <summary>Least-squares slope of <paramref name="effect"/> on <paramref name="cause"/> over every row, interventions or not.</summary>
    public double RegressionSlope(int cause, int effect)
    {
        var rows = _rows ??= Rows();
        if (rows.Length < 2)
        {
            return 0;
        }
        double meanX = 0, meanY = 0;
        foreach (var row in rows)
        {
            meanX += row[cause];
            meanY += row[effect];
        }
        meanX /= rows.Length;
        meanY /= rows.Length;
        double sxy = 0, sxx = 0;
        foreach (var row in rows)
        {
            var dx = row[cause] - meanX;
            sxy += dx * (row[effect] - meanY);
            sxx += dx * dx;
        }
        return sxx > 1e-12 ? sxy / sxx : 0;
    }

    private ImmutableArray<double>[] Rows()
    {
        var samples = _view.Brief.Evidence?.Samples ?? [];
        var history = _view.History;
        var count = samples.Length;
        for (var s = 0; s < _historyCount; s++)
        {
            count += Experiment(history[s]) is null ? 0 : 1;
        }
        var rows = new ImmutableArray<double>[count];
        count = 0;
        foreach (var sample in samples)
        {
            rows[count++] = sample.Values;
        }
        for (var s = 0; s < _historyCount; s++)
        {
            if (Experiment(history[s]) is not null)
            {
                rows[count++] = history[s].Observation;
            }
        }
        return rows;
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
        // InterventionalEffect(i, j) off the diagonal, a row at a time from the sums (the same divisions).
        var sums = _sums.AsSpan();
        for (var i = 0; i < n; i++)
        {
            var row = identityPlusT.Slice(i * n, n);
            var interventions = sums[n * n + i];
            if (interventions > 0)
            {
                Matrix.Divide(sums.Slice(i * n, n), interventions, row);
            }
            else
            {
                for (var j = 0; j < n; j++)
                {
                    row[j] = RegressionSlope(i, j);
                }
            }
            row[i] = 1;
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
        // Checked once here, so the loops below index through references without a bounds check per element (they are
        // most of the work, and n is 5 or so).
        if (n < 0 || matrix.Length < n * n || inverse.Length < n * n)
        {
            throw new ArgumentException("the spans are shorter than n × n");
        }
        ref var a = ref MemoryMarshal.GetReference(matrix);
        ref var inv = ref MemoryMarshal.GetReference(inverse);
        inverse[..(n * n)].Clear();
        for (var i = 0; i < n; i++)
        {
            Unsafe.Add(ref inv, i * n + i) = 1;
        }
        for (var col = 0; col < n; col++)
        {
            var pivot = col;
            for (var r = col + 1; r < n; r++)
            {
                if (Math.Abs(Unsafe.Add(ref a, r * n + col)) > Math.Abs(Unsafe.Add(ref a, pivot * n + col)))
                {
                    pivot = r;
                }
            }
            if (Math.Abs(Unsafe.Add(ref a, pivot * n + col)) < 1e-12)
            {
                return false;
            }
            ref var aCol = ref Unsafe.Add(ref a, col * n);
            ref var invCol = ref Unsafe.Add(ref inv, col * n);
            if (pivot != col)
            {
                ref var aPivot = ref Unsafe.Add(ref a, pivot * n);
                ref var invPivot = ref Unsafe.Add(ref inv, pivot * n);
                for (var c = 0; c < n; c++)
                {
                    (Unsafe.Add(ref aCol, c), Unsafe.Add(ref aPivot, c)) = (Unsafe.Add(ref aPivot, c), Unsafe.Add(ref aCol, c));
                    (Unsafe.Add(ref invCol, c), Unsafe.Add(ref invPivot, c)) = (Unsafe.Add(ref invPivot, c), Unsafe.Add(ref invCol, c));
                }
            }
            // Columns up to col of the matrix are never read again (pivots and factors come from later columns), so only
            // the later ones are scaled and reduced; the inverse is updated in full. Same values as updating every column.
            var scale = 1 / Unsafe.Add(ref aCol, col);
            Scale(ref Unsafe.Add(ref aCol, col + 1), n - col - 1, scale);
            Scale(ref invCol, n, scale);
            for (var r = 0; r < n; r++)
            {
                ref var aRow = ref Unsafe.Add(ref a, r * n);
                var factor = Unsafe.Add(ref aRow, col);
                if (r == col || factor == 0)
                {
                    continue;
                }
                SubtractScaled(ref Unsafe.Add(ref aRow, col + 1), ref Unsafe.Add(ref aCol, col + 1), n - col - 1, factor);
                SubtractScaled(ref Unsafe.Add(ref inv, r * n), ref invCol, n, factor);
            }
        }
        return true;
    }

    // The row operations, four columns at a time where the hardware has them: each element gets the same multiply and
    // then the same subtraction (or the same division) as one at a time (.NET never fuses them into one rounding), so
    // the bits are the same.

    /// <summary>Each of <paramref name="source"/> divided by <paramref name="divisor"/>, into the same positions of <paramref name="destination"/>.</summary>
    public static void Divide(ReadOnlySpan<double> source, double divisor, Span<double> destination)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException("the destination is shorter than the source");
        }
        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination);
        var c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var by = Vector256.Create(divisor);
            for (; c + 4 <= source.Length; c += 4)
            {
                (Vector256.LoadUnsafe(ref from, (nuint)c) / by).StoreUnsafe(ref to, (nuint)c);
            }
        }
        for (; c < source.Length; c++)
        {
            Unsafe.Add(ref to, c) = Unsafe.Add(ref from, c) / divisor;
        }
    }

    /// <summary><paramref name="length"/> elements from <paramref name="row"/> multiplied by <paramref name="scale"/>.</summary>
    private static void Scale(ref double row, int length, double scale)
    {
        var c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var by = Vector256.Create(scale);
            for (; c + 4 <= length; c += 4)
            {
                (Vector256.LoadUnsafe(ref row, (nuint)c) * by).StoreUnsafe(ref row, (nuint)c);
            }
        }
        for (; c < length; c++)
        {
            Unsafe.Add(ref row, c) *= scale;
        }
    }

    /// <summary><paramref name="length"/> elements from <paramref name="row"/> less <paramref name="factor"/> times those of <paramref name="source"/>.</summary>
    private static void SubtractScaled(ref double row, ref double source, int length, double factor)
    {
        var c = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var by = Vector256.Create(factor);
            for (; c + 4 <= length; c += 4)
            {
                (Vector256.LoadUnsafe(ref row, (nuint)c) - by * Vector256.LoadUnsafe(ref source, (nuint)c)).StoreUnsafe(ref row, (nuint)c);
            }
        }
        for (; c < length; c++)
        {
            Unsafe.Add(ref row, c) -= factor * Unsafe.Add(ref source, c);
        }
    }
}
