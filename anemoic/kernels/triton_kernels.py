"""Triton kernels of fused graph attention: one forward pass, two deterministic backward passes.

Layout: q, out, dO (N_dst, H, C); k, v (N_src, H, C); e (E, H, C) in destination-sorted order, all
contiguous. H and C are compile-time constants, so padding masks vanish for powers of two and row
loads vectorise. A program owns one node and BLOCK_H heads and walks its edges BLOCK_E at a time.

* forward (program per destination): online softmax in base 2, writes out and the base-2 log-sum-exp.
* backward, destination pass: recomputes alpha from the saved LSE, accumulates dq, writes de for
  its (contiguous) edges and the small per-edge, per-head alpha and scaled ds (E, H) fp32 arrays.
* backward, source pass (program per source, by-source view): dk = sum ds q, dv = sum alpha dO.
  It reads only q, dO and the (E, H) arrays: e, k and v are not read again. No atomics.

With PAIR, a program walks its list two edges per iteration as two separate 2-D tiles (twice the
row gathers in flight, half the serial steps, no cross-warp reduction over edges); the BLOCK_E loop
then does not run. Index entries of the next edge block are loaded one iteration ahead (PREFETCH), so the row gathers
do not wait on an index load; REUSE / STREAM are cache eviction hints for gathered rows (reused by
neighbouring programs) and rows read or written once ("" = no hint).

Anything imported from here requires triton; ``anemoic.kernels`` imports this module lazily.
"""

from __future__ import annotations

import triton
import triton.language as tl

LOG2E = 1.4426950408889634


@triton.jit
def _head_tile(hb, H: tl.constexpr, C: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_C: tl.constexpr):
    """Offsets within a node row of heads [hb*BLOCK_H, ...) and their padding mask, both (BLOCK_H, BLOCK_C)."""
    heads = hb * BLOCK_H + tl.arange(0, BLOCK_H)
    chans = tl.arange(0, BLOCK_C)
    offsets = heads[:, None] * C + chans[None, :]
    if (H % BLOCK_H == 0) and (C == BLOCK_C):
        mask = tl.full((BLOCK_H, BLOCK_C), 1, tl.int1)  # constant: lets loads vectorise
    else:
        mask = (heads[:, None] < H) & (chans[None, :] < C)
    return heads, offsets, mask


@triton.jit
def _rows(BASE, node, row_len, hc_off, mask, ACC: tl.constexpr, POLICY: tl.constexpr):
    """One node's (BLOCK_H, BLOCK_C) row slice, as a 2-D tile (no cross-warp reduction over edges)."""
    return tl.load(BASE + node * row_len + hc_off, mask=mask, other=0.0, eviction_policy=POLICY).to(ACC)


@triton.jit
def _masked_if(mask, offsets, position, end):
    """``mask & (position < end)`` as a full tile (triton's interpreter cannot mix a scalar into a mask)."""
    return mask & (offsets * 0 + position < end)


@triton.jit
def _pair_ids(PTR, first, end):
    """Index entries of edges first and first + 1 (0 where past ``end``): loaded one pair ahead."""
    return (tl.load(PTR + first, mask=first < end, other=0),
            tl.load(PTR + first + 1, mask=first + 1 < end, other=0))  # fmt: skip


@triton.jit
def attention_forward_kernel(
    Q, K, V, E, OUT, LSE, COLPTR, SRC,
    scale_log2, H: tl.constexpr, C: tl.constexpr,
    BLOCK_E: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_C: tl.constexpr, ACC: tl.constexpr,
    PREFETCH: tl.constexpr, REUSE: tl.constexpr, STREAM: tl.constexpr, PAIR: tl.constexpr,
):  # fmt: skip
    dst = tl.program_id(0).to(tl.int64)
    heads, hc_off, hc_mask = _head_tile(tl.program_id(1), H, C, BLOCK_H, BLOCK_C)
    row_len = H * C
    start = tl.load(COLPTR + dst)
    end = tl.load(COLPTR + dst + 1)
    q = tl.load(Q + dst * row_len + hc_off, mask=hc_mask, other=0.0).to(ACC)
    m = tl.full((BLOCK_H,), float("-inf"), ACC)
    denom = tl.zeros((BLOCK_H,), ACC)
    acc = tl.zeros((BLOCK_H, BLOCK_C), ACC)
    lanes = tl.arange(0, BLOCK_E)
    if PREFETCH:
        next_src = tl.load(SRC + start + lanes, mask=start + lanes < end, other=0)
    if PAIR:  # two edges per iteration as two 2-D tiles: twice the gathers in flight, half the serial steps
        next0, next1 = _pair_ids(SRC, start, end)
        for first in range(start, end, 2):
            pair_mask = _masked_if(hc_mask, hc_off, first + 1, end)
            src0, src1 = next0, next1
            next0, next1 = _pair_ids(SRC, first + 2, end)
            k0 = _rows(K, src0, row_len, hc_off, hc_mask, ACC, REUSE)
            v0 = _rows(V, src0, row_len, hc_off, hc_mask, ACC, REUSE)
            e0 = _rows(E, first, row_len, hc_off, hc_mask, ACC, STREAM)
            k1 = _rows(K, src1, row_len, hc_off, pair_mask, ACC, REUSE)
            v1 = _rows(V, src1, row_len, hc_off, pair_mask, ACC, REUSE)
            e1 = _rows(E, first + 1, row_len, hc_off, pair_mask, ACC, STREAM)
            s0 = tl.sum(q * (k0 + e0), axis=1) * scale_log2
            s1 = tl.sum(q * (k1 + e1), axis=1) * scale_log2
            s1 = tl.where(_masked_if(heads >= 0, heads, first + 1, end), s1, float("-inf"))
            m_new = tl.maximum(m, tl.maximum(s0, s1))
            p0 = tl.exp2(s0 - m_new)
            p1 = tl.exp2(s1 - m_new)
            correction = tl.exp2(m - m_new)
            denom = denom * correction + p0 + p1
            acc = acc * correction[:, None] + p0[:, None] * (v0 + e0) + p1[:, None] * (v1 + e1)
            m = m_new
    single_end = start if PAIR else end  # the one-block loop below runs only without PAIR
    for block in range(start, single_end, BLOCK_E):
        edges = block + lanes
        edge_ok = edges < end
        if PREFETCH:  # the next block's source ids load while this block's rows are in flight
            src = next_src
            next_src = tl.load(SRC + edges + BLOCK_E, mask=edges + BLOCK_E < end, other=0)
        else:
            src = tl.load(SRC + edges, mask=edge_ok, other=0)
        tile_mask = edge_ok[:, None, None] & hc_mask[None, :, :]
        node_off = src[:, None, None] * row_len + hc_off[None, :, :]
        k_tile = tl.load(K + node_off, mask=tile_mask, other=0.0, eviction_policy=REUSE).to(ACC)
        v_tile = tl.load(V + node_off, mask=tile_mask, other=0.0, eviction_policy=REUSE).to(ACC)
        e_off = edges[:, None, None] * row_len + hc_off[None, :, :]
        e_tile = tl.load(E + e_off, mask=tile_mask, other=0.0, eviction_policy=STREAM).to(ACC)
        scores = tl.sum(q[None, :, :] * (k_tile + e_tile), axis=2) * scale_log2  # (BLOCK_E, BLOCK_H)
        scores = tl.where(edge_ok[:, None], scores, float("-inf"))
        m_new = tl.maximum(m, tl.max(scores, axis=0))
        p = tl.exp2(scores - m_new[None, :])
        correction = tl.exp2(m - m_new)
        denom = denom * correction + tl.sum(p, axis=0)
        acc = acc * correction[:, None] + tl.sum(p[:, :, None] * (v_tile + e_tile), axis=0)
        m = m_new
    has_edges = denom > 0
    safe = tl.where(has_edges, denom, 1.0)
    out = acc / safe[:, None]
    lse = tl.where(has_edges, m + tl.log2(safe), 0.0)
    tl.store(OUT + dst * row_len + hc_off, out.to(OUT.dtype.element_ty), mask=hc_mask)
    tl.store(LSE + dst * H + heads, lse.to(LSE.dtype.element_ty), mask=heads < H)


@triton.jit
def _dst_edge(
    k, v, e, q, d_out, lse, delta, edge, heads, head_mask, hc_off, edge_mask,
    H: tl.constexpr, C: tl.constexpr, DE, ALPHA, DSCORE, scale, scale_log2, STREAM: tl.constexpr,
):  # fmt: skip
    """Destination-pass work of one edge held as 2-D tiles: stores de, alpha, d-score; returns its dq term.

    ``edge_mask`` / ``head_mask`` are false for padding and for a pair's missing second edge.
    """
    key = k + e
    alpha = tl.where(head_mask, tl.exp2(tl.sum(q * key, axis=1) * scale_log2 - lse), 0.0)
    d_score = alpha * (tl.sum(d_out * (v + e), axis=1) - delta) * scale
    d_edge = alpha[:, None] * d_out + d_score[:, None] * q
    tl.store(DE + edge * (H * C) + hc_off, d_edge.to(DE.dtype.element_ty), mask=edge_mask, eviction_policy=STREAM)
    tl.store(ALPHA + edge * H + heads, alpha.to(ALPHA.dtype.element_ty), mask=head_mask)
    tl.store(DSCORE + edge * H + heads, d_score.to(DSCORE.dtype.element_ty), mask=head_mask)
    return d_score[:, None] * key


@triton.jit
def attention_backward_dst_kernel(
    Q, K, V, E, OUT, DOUT, LSE, COLPTR, SRC, DQ, DE, ALPHA, DSCORE,
    scale, scale_log2, H: tl.constexpr, C: tl.constexpr,
    BLOCK_E: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_C: tl.constexpr, ACC: tl.constexpr,
    PREFETCH: tl.constexpr, REUSE: tl.constexpr, STREAM: tl.constexpr, PAIR: tl.constexpr,
):  # fmt: skip
    dst = tl.program_id(0).to(tl.int64)
    heads, hc_off, hc_mask = _head_tile(tl.program_id(1), H, C, BLOCK_H, BLOCK_C)
    head_ok = heads < H
    row_len = H * C
    start = tl.load(COLPTR + dst)
    end = tl.load(COLPTR + dst + 1)
    row = dst * row_len + hc_off
    q = tl.load(Q + row, mask=hc_mask, other=0.0).to(ACC)
    d_out = tl.load(DOUT + row, mask=hc_mask, other=0.0).to(ACC)
    out = tl.load(OUT + row, mask=hc_mask, other=0.0).to(ACC)
    delta = tl.sum(d_out * out, axis=1)  # (BLOCK_H,) = <dO_j, O_j>
    lse = tl.load(LSE + dst * H + heads, mask=head_ok, other=0.0).to(ACC)
    dq = tl.zeros((BLOCK_H, BLOCK_C), ACC)
    lanes = tl.arange(0, BLOCK_E)
    if PREFETCH:
        next_src = tl.load(SRC + start + lanes, mask=start + lanes < end, other=0)
    if PAIR:
        next0, next1 = _pair_ids(SRC, start, end)
        for first in range(start, end, 2):
            pair_mask = _masked_if(hc_mask, hc_off, first + 1, end)
            src0, src1 = next0, next1
            next0, next1 = _pair_ids(SRC, first + 2, end)
            k0 = _rows(K, src0, row_len, hc_off, hc_mask, ACC, REUSE)
            v0 = _rows(V, src0, row_len, hc_off, hc_mask, ACC, REUSE)
            e0 = _rows(E, first, row_len, hc_off, hc_mask, ACC, STREAM)
            k1 = _rows(K, src1, row_len, hc_off, pair_mask, ACC, REUSE)
            v1 = _rows(V, src1, row_len, hc_off, pair_mask, ACC, REUSE)
            e1 = _rows(E, first + 1, row_len, hc_off, pair_mask, ACC, STREAM)
            dq += _dst_edge(k0, v0, e0, q, d_out, lse, delta, first, heads, head_ok, hc_off, hc_mask,
                            H, C, DE, ALPHA, DSCORE, scale, scale_log2, STREAM)
            dq += _dst_edge(k1, v1, e1, q, d_out, lse, delta, first + 1, heads,
                            _masked_if(head_ok, heads, first + 1, end), hc_off, pair_mask,
                            H, C, DE, ALPHA, DSCORE, scale, scale_log2, STREAM)  # fmt: skip
    single_end = start if PAIR else end
    for block in range(start, single_end, BLOCK_E):
        edges = block + lanes
        edge_ok = edges < end
        if PREFETCH:
            src = next_src
            next_src = tl.load(SRC + edges + BLOCK_E, mask=edges + BLOCK_E < end, other=0)
        else:
            src = tl.load(SRC + edges, mask=edge_ok, other=0)
        tile_mask = edge_ok[:, None, None] & hc_mask[None, :, :]
        node_off = src[:, None, None] * row_len + hc_off[None, :, :]
        k_tile = tl.load(K + node_off, mask=tile_mask, other=0.0, eviction_policy=REUSE).to(ACC)
        v_tile = tl.load(V + node_off, mask=tile_mask, other=0.0, eviction_policy=REUSE).to(ACC)
        edge_off = edges[:, None, None] * row_len + hc_off[None, :, :]
        e_tile = tl.load(E + edge_off, mask=tile_mask, other=0.0, eviction_policy=STREAM).to(ACC)
        key = k_tile + e_tile
        value = v_tile + e_tile
        scores = tl.sum(q[None, :, :] * key, axis=2) * scale_log2
        alpha = tl.where(edge_ok[:, None], tl.exp2(scores - lse[None, :]), 0.0)  # (BLOCK_E, BLOCK_H)
        d_alpha = tl.sum(d_out[None, :, :] * value, axis=2)
        d_score = alpha * (d_alpha - delta[None, :]) * scale
        dq += tl.sum(d_score[:, :, None] * key, axis=0)
        d_edge = alpha[:, :, None] * d_out[None, :, :] + d_score[:, :, None] * q[None, :, :]
        tl.store(DE + edge_off, d_edge.to(DE.dtype.element_ty), mask=tile_mask, eviction_policy=STREAM)
        small_off = edges[:, None] * H + heads[None, :]
        small_mask = edge_ok[:, None] & head_ok[None, :]
        tl.store(ALPHA + small_off, alpha.to(ALPHA.dtype.element_ty), mask=small_mask)
        tl.store(DSCORE + small_off, d_score.to(DSCORE.dtype.element_ty), mask=small_mask)
    tl.store(DQ + row, dq.to(DQ.dtype.element_ty), mask=hc_mask)


@triton.jit
def attention_backward_src_kernel(
    Q, DOUT, ALPHA, DSCORE, REV_PTR, REV_PERM, REV_DST, DK, DV,
    H: tl.constexpr, C: tl.constexpr,
    BLOCK_E: tl.constexpr, BLOCK_H: tl.constexpr, BLOCK_C: tl.constexpr, ACC: tl.constexpr,
    PREFETCH: tl.constexpr, REUSE: tl.constexpr, STREAM: tl.constexpr, PAIR: tl.constexpr,
):  # fmt: skip
    src = tl.program_id(0).to(tl.int64)
    heads, hc_off, hc_mask = _head_tile(tl.program_id(1), H, C, BLOCK_H, BLOCK_C)
    head_ok = heads < H
    row_len = H * C
    start = tl.load(REV_PTR + src)
    end = tl.load(REV_PTR + src + 1)
    dk = tl.zeros((BLOCK_H, BLOCK_C), ACC)
    dv = tl.zeros((BLOCK_H, BLOCK_C), ACC)
    lanes = tl.arange(0, BLOCK_E)
    if PREFETCH:
        next_edges = tl.load(REV_PERM + start + lanes, mask=start + lanes < end, other=0)
        next_dst = tl.load(REV_DST + start + lanes, mask=start + lanes < end, other=0)
    if PAIR:
        next_e0, next_e1 = _pair_ids(REV_PERM, start, end)
        next_d0, next_d1 = _pair_ids(REV_DST, start, end)
        for first in range(start, end, 2):
            pair_mask = _masked_if(hc_mask, hc_off, first + 1, end)
            head_pair = _masked_if(head_ok, heads, first + 1, end)
            edge0, edge1, dst0, dst1 = next_e0, next_e1, next_d0, next_d1
            next_e0, next_e1 = _pair_ids(REV_PERM, first + 2, end)
            next_d0, next_d1 = _pair_ids(REV_DST, first + 2, end)
            q0 = _rows(Q, dst0, row_len, hc_off, hc_mask, ACC, REUSE)
            o0 = _rows(DOUT, dst0, row_len, hc_off, hc_mask, ACC, REUSE)
            q1 = _rows(Q, dst1, row_len, hc_off, pair_mask, ACC, REUSE)
            o1 = _rows(DOUT, dst1, row_len, hc_off, pair_mask, ACC, REUSE)
            a0 = tl.load(ALPHA + edge0 * H + heads, mask=head_ok, other=0.0).to(ACC)
            s0 = tl.load(DSCORE + edge0 * H + heads, mask=head_ok, other=0.0).to(ACC)
            a1 = tl.load(ALPHA + edge1 * H + heads, mask=head_pair, other=0.0).to(ACC)
            s1 = tl.load(DSCORE + edge1 * H + heads, mask=head_pair, other=0.0).to(ACC)
            dk += s0[:, None] * q0 + s1[:, None] * q1
            dv += a0[:, None] * o0 + a1[:, None] * o1
    single_end = start if PAIR else end
    for block in range(start, single_end, BLOCK_E):
        slots = block + lanes
        slot_ok = slots < end
        if PREFETCH:
            edges = next_edges
            dst = next_dst
            next_edges = tl.load(REV_PERM + slots + BLOCK_E, mask=slots + BLOCK_E < end, other=0)
            next_dst = tl.load(REV_DST + slots + BLOCK_E, mask=slots + BLOCK_E < end, other=0)
        else:
            edges = tl.load(REV_PERM + slots, mask=slot_ok, other=0)
            dst = tl.load(REV_DST + slots, mask=slot_ok, other=0)
        tile_mask = slot_ok[:, None, None] & hc_mask[None, :, :]
        node_off = dst[:, None, None] * row_len + hc_off[None, :, :]
        q = tl.load(Q + node_off, mask=tile_mask, other=0.0, eviction_policy=REUSE).to(ACC)
        d_out = tl.load(DOUT + node_off, mask=tile_mask, other=0.0, eviction_policy=REUSE).to(ACC)
        small_off = edges[:, None] * H + heads[None, :]
        small_mask = slot_ok[:, None] & head_ok[None, :]
        alpha = tl.load(ALPHA + small_off, mask=small_mask, other=0.0, eviction_policy=STREAM).to(ACC)
        d_score = tl.load(DSCORE + small_off, mask=small_mask, other=0.0, eviction_policy=STREAM).to(ACC)
        dk += tl.sum(d_score[:, :, None] * q, axis=0)
        dv += tl.sum(alpha[:, :, None] * d_out, axis=0)
    row = src * row_len + hc_off
    tl.store(DK + row, dk.to(DK.dtype.element_ty), mask=hc_mask)
    tl.store(DV + row, dv.to(DV.dtype.element_ty), mask=hc_mask)


def next_power_of_2(value: int) -> int:
    return triton.next_power_of_2(value)
