"""TopicContextManager: joins, running-mean centroids, auto-merge, active slots, context assembly."""

import numpy as np
import pytest

from memnb.hrs.routing.topic_manager import TopicContextManager, merge_threshold


def test_merge_threshold_matches_the_seed_at_its_join_threshold():
    assert merge_threshold(0.5) == pytest.approx(0.85)


def test_join_opens_clusters_and_centroid_is_the_renormalised_running_mean():
    mgr = TopicContextManager(0.5, merge=0.99)
    a, b = np.array([1.0, 0.0, 0.0]), np.array([0.8, 0.6, 0.0])  # cos(a, b) = 0.8 >= 0.5: join
    c = np.array([0.0, 0.0, 2.0])  # orthogonal: new cluster
    ca, cb, cc = mgr.insert(a, [1]), mgr.insert(b, [2]), mgr.insert(c, [3])
    assert ca == cb != cc and len(mgr.clusters) == 2
    mean = (a + b) / 2
    np.testing.assert_allclose(mgr.clusters[ca].centroid, mean / np.linalg.norm(mean))
    assert mgr.active == [cc, ca]  # most recent first


def test_auto_merge_folds_the_smaller_cluster_into_the_larger():
    mgr = TopicContextManager(0.95, merge=0.9)
    mgr.insert(np.array([1.0, 0.0]), [1])
    mgr.insert(np.array([1.0, 0.01]), [2])  # joins (cos ~ 1)
    big = mgr.nearest(np.array([1.0, 0.0]))[0]
    v = np.array([np.cos(0.35), np.sin(0.35)])  # cos 0.94 < join 0.95: new cluster ...
    cid = mgr.insert(v, [3])  # ... but its centroid is within merge 0.9 of the big one: merged
    assert cid == big and len(mgr.clusters) == 1 and mgr.clusters[big].members == [0, 1, 2]


def test_active_slots_evict_least_recent_and_route_does_not_insert():
    mgr = TopicContextManager(0.9, merge=0.999, max_active=2)
    ids = [mgr.insert(np.eye(3)[i], [i]) for i in range(3)]
    assert mgr.active == [ids[2], ids[1]] and len(mgr.clusters) == 3
    cid, sim = mgr.route(np.eye(3)[0])
    assert cid == ids[0] and sim == pytest.approx(1.0)
    assert mgr.active == [ids[0], ids[2]] and len(mgr.vectors) == 3


def test_assemble_gives_halving_shares_oldest_cluster_first_and_keeps_tails():
    mgr = TopicContextManager(0.9, merge=0.999, max_active=2, budget=8)
    mgr.insert(np.array([1.0, 0.0]), [10, 11, 12, 13, 14, 15])
    mgr.insert(np.array([0.0, 1.0]), [20, 21])
    mgr.insert(np.array([0.0, 1.0]), [22, 23, 24])  # joins the second cluster (MRU)
    assert mgr.shares(2) == [4, 4]
    # MRU cluster: its most recent members within 4 tokens (older one tail-cut), placed last
    assert mgr.assemble() == [12, 13, 14, 15, 21, 22, 23, 24]


def test_seed_order_puts_the_prompt_at_the_end_of_its_own_context():
    mgr = TopicContextManager(0.5, budget=6)
    mgr.insert(np.array([1.0, 0.0]), [1, 2, 3, 4])
    mgr.insert(np.array([1.0, 0.1]), [7, 8])  # the "prompt", inserted before reading (seed's order)
    assert mgr.assemble()[-2:] == [7, 8]


def test_bad_parameters_raise():
    with pytest.raises(ValueError, match="join"):
        TopicContextManager(1.5)
    with pytest.raises(ValueError, match="max_active"):
        TopicContextManager(0.5, max_active=0)
