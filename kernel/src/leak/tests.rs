//! The view recorder keeps exactly the words a party receives (and, asked, sends), for the
//! two computing parties and the helper alike.

use super::ViewRecorder;
use crate::wire::{Domain, Net, HELPER};

#[test]
fn the_recorder_keeps_each_partys_view() {
    for party in [0usize, 1, HELPER] {
        for sent in [false, true] {
            let mut words = [0i64; 16];
            let mut rec = ViewRecorder::new(party, &mut words);
            if sent {
                rec = rec.with_sent();
            }
            let mut net = Net::with_wire(&mut rec);
            net.exchange("t", Domain::Arithmetic, &mut [1, 2], &mut [3, 4])
                .unwrap();
            net.to_helper("h", Domain::Arithmetic, &mut [5], &mut [6])
                .unwrap();
            net.from_helper("h", Domain::Arithmetic, &mut [7], &mut [8])
                .unwrap();
            assert_eq!(net.cost().rounds, 3);
            assert_eq!(net.cost().bytes_sent, [24, 24]);
            assert_eq!(net.cost().helper_bytes, 16);
            let want: &[i64] = match (party, sent) {
                (0, false) => &[3, 4, 7],
                (1, false) => &[1, 2, 8],
                (0, true) => &[1, 2, 3, 4, 5, 7],
                (1, true) => &[1, 2, 3, 4, 6, 8],
                (_, false) => &[5, 6],
                (_, true) => &[5, 6, 7, 8],
            };
            assert_eq!(rec.view(), want, "party {party} sent {sent}");
        }
    }
    // Openings: the opened value in place of the received words.
    for party in [0usize, 1, HELPER] {
        let mut words = [0i64; 16];
        let mut rec = ViewRecorder::new(party, &mut words)
            .with_sent()
            .with_openings();
        let mut net = Net::with_wire(&mut rec);
        net.exchange("t", Domain::Arithmetic, &mut [1, 2], &mut [3, 4])
            .unwrap();
        net.exchange("b", Domain::Binary, &mut [6], &mut [3])
            .unwrap();
        net.to_helper("h", Domain::Arithmetic, &mut [5], &mut [6])
            .unwrap();
        net.from_helper("h", Domain::Arithmetic, &mut [7], &mut [8])
            .unwrap();
        let want: &[i64] = match party {
            0 => &[1, 2, 4, 6, 6, 5, 5, 7],
            1 => &[4, 6, 3, 4, 5, 3, 6, 8],
            _ => &[11, 7, 8],
        };
        assert_eq!(rec.view(), want, "party {party} with openings");
    }
    // A full buffer keeps the first words and counts the rest.
    let mut words = [0i64; 3];
    let mut rec = ViewRecorder::new(0, &mut words);
    rec.push(&[1, 2]);
    rec.push(&[3, 4, 5]);
    assert_eq!((rec.view(), rec.dropped()), (&[1i64, 2, 3][..], 2));
    rec.clear();
    assert!(rec.is_empty());
}
