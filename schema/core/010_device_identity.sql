-- What identifies a device in the field (seed 003 §3.2.4 相机管理, seed 004 设备管理; issue 12): the
-- factory's serial, the SIM card's ICCID and the device's IP address, set at registration or later
-- by an operator; and which side of a camera a parking space lies on.
ALTER TABLE devices ADD COLUMN factory_id TEXT CHECK (factory_id IS NULL OR length(factory_id) BETWEEN 1 AND 64);
ALTER TABLE devices ADD COLUMN sim TEXT CHECK (sim IS NULL OR length(sim) BETWEEN 1 AND 32);
ALTER TABLE devices ADD COLUMN ip TEXT CHECK (ip IS NULL OR length(ip) BETWEEN 2 AND 45);
ALTER TABLE spaces ADD COLUMN side TEXT CHECK (side IS NULL OR side IN ('left', 'right'));
