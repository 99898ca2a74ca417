-- A challenge's tie-break: how players tied on score are told apart. 'none' (the default, and
-- every challenge created before this migration) lets them share the place; 'goal_days' ranks
-- the one with more days the daily goal was met ahead; 'first_to_score' the one whose running
-- score reached their final score on an earlier day. Players still tied share the place.

ALTER TABLE challenges ADD COLUMN tie_break TEXT NOT NULL DEFAULT 'none'
    CHECK (tie_break IN ('none', 'goal_days', 'first_to_score'));
