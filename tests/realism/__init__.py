"""Realism suite: photo pairs with known truth built from real smartphone photos and synthetic skin.

``sources`` finds the skin (real PAD-UFES-20 photos or ``skintrack.demo.synth`` skin) as linear
reflectance in body coordinates, ``render`` photographs it like a phone would (pose, non-rigid
displacement, exposure, white balance, tone curve, saturation, glints, noise), ``variants`` builds
the pairs of each phenomenon, and ``scoring`` runs the real ``compare_files`` on them.
"""
