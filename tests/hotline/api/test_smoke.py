def test_register_and_read(api, new_ticket):
    number = new_ticket()
    resp = api("reviewer").get(f"/tickets/{number}")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["status"] == "registered"
    assert body["citizen"]["phone"] == "13812345678"
